#pragma once
// Fixed-width vectors for the hot loops (private; never installed): GCC / Clang vector extensions where
// the compiler has them, plain scalars otherwise.
//
// SEGEN_HAVE_VECTOR_EXT is 1 with GCC or Clang unless the build asks for the portable path
// (-DSEGEN_PORTABLE=ON, which CI builds and tests so that the fallback keeps working). With it 0,
// vec_t<F, B> is F itself with one lane: loops written only with vector arithmetic (+, -, *, +=, loads,
// stores) compile unchanged and run on scalars; loops that use anything more (lane access, selects on
// masks, __builtin_convertvector) sit behind `#if SEGEN_HAVE_VECTOR_EXT` before their scalar remainder
// loops, which then do all the work. Every path rounds the same way lane by lane.

#include <cstring>  // std::memcpy

#include "detail/dispatch.hpp"  // SEGEN_ALWAYS_INLINE

#if defined(__GNUC__) && !defined(SEGEN_PORTABLE)
#define SEGEN_HAVE_VECTOR_EXT 1
#else
#define SEGEN_HAVE_VECTOR_EXT 0
#endif

// The vector helpers are always inlined, so GCC's note that passing 32-byte vectors without AVX changes
// the ABI does not apply.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wpsabi"
#endif

namespace segen::detail {

// vec_t<F, B>: B-byte vectors of F. B = 32 up to x86-64-v3 (AVX2 registers, or pairs of SSE registers in
// baseline code), 64 in code compiled for x86-64-v4 (see vector_bytes() in dispatch.hpp).
template <class F, int B = 32>
struct Vec {
#if SEGEN_HAVE_VECTOR_EXT
  typedef F type __attribute__((vector_size(B)));
  static constexpr int lanes = B / static_cast<int>(sizeof(F));
#else
  using type = F;
  static constexpr int lanes = 1;
#endif
};
template <class F, int B = 32>
using vec_t = typename Vec<F, B>::type;

template <class F, int B = 32>
SEGEN_ALWAYS_INLINE vec_t<F, B> vload(const F* p) {
  vec_t<F, B> v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}
template <class F, int B>
SEGEN_ALWAYS_INLINE void vstore(F* p, vec_t<F, B> v) {
  std::memcpy(p, &v, sizeof(v));
}

}  // namespace segen::detail
