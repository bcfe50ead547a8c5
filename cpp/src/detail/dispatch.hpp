#pragma once
// The one SIMD dispatch mechanism of the core (private; never installed).
//
// A hot loop is written once, as the body of a template on the CPU level (`kLevel`), and SEGEN_MULTIVERSION
// compiles that body once per level, each copy with the level's target attribute, plus a plain function
// of the given name that calls the copy for cpu_level(). The body may use kLevel to choose code that only
// a level can run (AVX2 or AVX-512 intrinsics, 64-byte vectors); most bodies ignore it and let the
// compiler vectorise for each target.
//
//   SEGEN_MULTIVERSION(V3, , void, convert_row, (const float* s, double* d, std::ptrdiff_t n), (s, d, n)) {
//     for (std::ptrdiff_t i = 0; i < n; ++i) d[i] = s[i];
//   }
//
// The first argument is the highest level worth a copy (V3: baseline x86-64 and x86-64-v3, i.e. AVX2/FMA;
// V4: also x86-64-v4, i.e. AVX-512), the second extra attributes for every copy (e.g. SEGEN_NO_CONTRACT;
// may be empty). Any x86-64 CPU runs a default build: the level is read from the CPU once, and the
// environment variable SEGEN_CPU_LEVEL=baseline|v3 lowers it (to test or time the other paths).
//
// Builds without run-time dispatch (-DSEGEN_NATIVE=ON, -DSEGEN_DISPATCH=OFF, compilers other than GCC 11+,
// targets other than x86-64) compile each body once, for the level the compiler targets anyway
// (kBuildLevel, from the predefined __AVX2__ / __AVX512F__ macros), capped at the function's highest level.

#include <cstdlib>  // std::getenv
#include <cstring>  // std::strcmp

// SEGEN_ALWAYS_INLINE: for the small helpers of hot loops, so that they are inlined into every copy.
#if defined(__GNUC__)
#define SEGEN_ALWAYS_INLINE inline __attribute__((always_inline))
#else
#define SEGEN_ALWAYS_INLINE inline
#endif

// SEGEN_NO_CONTRACT: functions that must round every product on its own (no fused multiply-add), to
// reproduce a reference's rounding exactly. An always-inline callee needs the same attribute as its caller.
#if defined(__GNUC__) && !defined(__clang__)
#define SEGEN_NO_CONTRACT __attribute__((optimize("fp-contract=off")))
#else
#define SEGEN_NO_CONTRACT
#endif

namespace segen::detail {

/// x86-64 micro-architecture levels the hot loops are compiled for (other targets: Baseline only).
enum class CpuLevel : int { Baseline = 0, V3 = 1, V4 = 2 };

constexpr bool operator>=(CpuLevel a, CpuLevel b) { return static_cast<int>(a) >= static_cast<int>(b); }
constexpr CpuLevel min_level(CpuLevel a, CpuLevel b) { return a >= b ? b : a; }

/// The level the compiler targets for code without a target attribute.
#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512DQ__) && defined(__AVX512VL__)
constexpr CpuLevel kBuildLevel = CpuLevel::V4;
#elif defined(__AVX2__) && defined(__FMA__)
constexpr CpuLevel kBuildLevel = CpuLevel::V3;
#else
constexpr CpuLevel kBuildLevel = CpuLevel::Baseline;
#endif

/// Bytes per vector for the GCC-vector loops that are written for a width (32 up to x86-64-v3, 64 on v4).
constexpr int vector_bytes(CpuLevel level) { return level >= CpuLevel::V4 ? 64 : 32; }

#if !defined(SEGEN_NO_DISPATCH) && defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && \
    __GNUC__ >= 11
#define SEGEN_RUNTIME_DISPATCH 1
#define SEGEN_TARGET_BASELINE
#define SEGEN_TARGET_V3 __attribute__((target("arch=x86-64-v3")))
#define SEGEN_TARGET_V4 __attribute__((target("arch=x86-64-v4")))

/// This CPU's level (read once), lowered by SEGEN_CPU_LEVEL=baseline|v3 if set.
inline CpuLevel cpu_level() {
  static const CpuLevel level = [] {
    __builtin_cpu_init();
    CpuLevel cpu = CpuLevel::Baseline;
#if __GNUC__ >= 12
    if (__builtin_cpu_supports("x86-64-v4")) cpu = CpuLevel::V4;
    else if (__builtin_cpu_supports("x86-64-v3")) cpu = CpuLevel::V3;
#else
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("bmi2")) {
      cpu = CpuLevel::V3;
      if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
          __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl"))
        cpu = CpuLevel::V4;
    }
#endif
    const char* cap = std::getenv("SEGEN_CPU_LEVEL");
    if (cap && std::strcmp(cap, "baseline") == 0) return CpuLevel::Baseline;
    if (cap && std::strcmp(cap, "v3") == 0) return min_level(cpu, CpuLevel::V3);
    return cpu;
  }();
  return level;
}

// The copies and the function that picks one. `name##_at` is the body, a template on the level.
#define SEGEN_MV_BODY_DECL_(attrs, ret, name, params) \
  template <::segen::detail::CpuLevel kLevel>         \
  SEGEN_ALWAYS_INLINE attrs ret name##_at params
// The copies are opaque to interprocedural optimisation (noipa), as ifunc-dispatched clones are: no copy
// is specialised for its callers' constants, which would change the rounding of some loops (the float64
// Gaussian's last columns) from one build to the next.
#define SEGEN_MV_COPY_(target, attrs, level, ret, name, suffix, params, args) \
  target attrs __attribute__((noipa)) ret name##_##suffix params {            \
    return name##_at<::segen::detail::CpuLevel::level> args;                  \
  }
#define SEGEN_MULTIVERSION_V3_(attrs, ret, name, params, args)                        \
  SEGEN_MV_BODY_DECL_(attrs, ret, name, params);                                      \
  SEGEN_MV_COPY_(SEGEN_TARGET_BASELINE, attrs, Baseline, ret, name, baseline, params, args) \
  SEGEN_MV_COPY_(SEGEN_TARGET_V3, attrs, V3, ret, name, v3, params, args)             \
  ret name params {                                                                   \
    if (::segen::detail::cpu_level() >= ::segen::detail::CpuLevel::V3) return name##_v3 args; \
    return name##_baseline args;                                                      \
  }                                                                                   \
  SEGEN_MV_BODY_DECL_(attrs, ret, name, params)
#define SEGEN_MULTIVERSION_V4_(attrs, ret, name, params, args)                        \
  SEGEN_MV_BODY_DECL_(attrs, ret, name, params);                                      \
  SEGEN_MV_COPY_(SEGEN_TARGET_BASELINE, attrs, Baseline, ret, name, baseline, params, args) \
  SEGEN_MV_COPY_(SEGEN_TARGET_V3, attrs, V3, ret, name, v3, params, args)             \
  SEGEN_MV_COPY_(SEGEN_TARGET_V4, attrs, V4, ret, name, v4, params, args)             \
  ret name params {                                                                   \
    const ::segen::detail::CpuLevel level_ = ::segen::detail::cpu_level();            \
    if (level_ >= ::segen::detail::CpuLevel::V4) return name##_v4 args;               \
    if (level_ >= ::segen::detail::CpuLevel::V3) return name##_v3 args;               \
    return name##_baseline args;                                                      \
  }                                                                                   \
  SEGEN_MV_BODY_DECL_(attrs, ret, name, params)

#else
#define SEGEN_RUNTIME_DISPATCH 0

inline CpuLevel cpu_level() { return kBuildLevel; }

#define SEGEN_MV_ONE_(top, attrs, ret, name, params, args)                                             \
  template <::segen::detail::CpuLevel kLevel>                                                          \
  SEGEN_ALWAYS_INLINE attrs ret name##_at params;                                                      \
  attrs ret name params {                                                                              \
    return name##_at<::segen::detail::min_level(::segen::detail::kBuildLevel,                          \
                                                 ::segen::detail::CpuLevel::top)> args;                \
  }                                                                                                    \
  template <::segen::detail::CpuLevel kLevel>                                                          \
  SEGEN_ALWAYS_INLINE attrs ret name##_at params
#define SEGEN_MULTIVERSION_V3_(attrs, ret, name, params, args) SEGEN_MV_ONE_(V3, attrs, ret, name, params, args)
#define SEGEN_MULTIVERSION_V4_(attrs, ret, name, params, args) SEGEN_MV_ONE_(V4, attrs, ret, name, params, args)
#endif

/// Define `ret name params` as a hot loop compiled per CPU level up to `top` (V3 or V4) and picked at
/// run time; the braces that follow are its body, where `kLevel` is the level being compiled.
#define SEGEN_MULTIVERSION(top, attrs, ret, name, params, args) \
  SEGEN_MULTIVERSION_##top##_(attrs, ret, name, params, args)

}  // namespace segen::detail
