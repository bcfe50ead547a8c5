#pragma once
// <immintrin.h> for the private x86-64 kernels that are compiled with target attributes and called from
// the x86-64-v3 / v4 copies of detail/dispatch.hpp: SEGEN_HAVE_X86_INTRIN is 1 where it is included
// (every x86-64 build with GCC or Clang, except the portable one).

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__)) && !defined(SEGEN_PORTABLE)
#define SEGEN_HAVE_X86_INTRIN 1
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"  // GCC 12's _mm512_undefined_*() (GCC bug 105593)
#endif
#include <immintrin.h>
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
#else
#define SEGEN_HAVE_X86_INTRIN 0
#endif
