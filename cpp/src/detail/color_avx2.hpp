#pragma once
// Private to color.cpp: AVX2/FMA kernels for the float-output colour conversions (uint8, uint16 and float32
// input), for CPUs of level x86-64-v3 (RGB -> HSV: hsv_block, which gives detail::hsv_pixels' bits). They
// compute the same formulas as the portable loops in color.cpp, eight pixels at a time, de-interleaving RGB
// in registers (blends + lane permutes) instead of through planar buffers. Every pixel, the first and last
// few of a span included, goes through the same vector code (short ends are padded), so results never
// depend on where a span starts, i.e. on the thread count.

#include <algorithm>  // std::min
#include <cstddef>  // std::ptrdiff_t
#include <cstdint>  // std::uint8_t, std::uint16_t, std::uintptr_t
#include <cstring>  // std::memcpy
#include <type_traits>  // std::is_same_v

#include "detail/color_hsv.hpp"  // kHsvLimit

// Compiled in every x86-64 build with GCC or Clang (target attributes); color.cpp calls them from its
// x86-64-v3 copies (detail/dispatch.hpp).
#include "detail/x86_intrin.hpp"
#define SEGEN_COLOR_HAVE_AVX2 SEGEN_HAVE_X86_INTRIN

namespace segen::detail::color_avx2 {

#if SEGEN_COLOR_HAVE_AVX2

#define SEGEN_AVX2_FN __attribute__((target("avx2,fma")))
#define SEGEN_AVX2_INLINE inline __attribute__((target("avx2,fma"), always_inline))


// ---- loading 8 interleaved pixels as three float vectors (24 samples, memory order) ---------------

template <class T>
SEGEN_AVX2_INLINE void load24(const T* s, __m256& a0, __m256& a1, __m256& a2) {
  if constexpr (std::is_same_v<T, float>) {
    a0 = _mm256_loadu_ps(s);
    a1 = _mm256_loadu_ps(s + 8);
    a2 = _mm256_loadu_ps(s + 16);
  } else if constexpr (std::is_same_v<T, std::uint8_t>) {
    a0 = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(s))));
    a1 = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(s + 8))));
    a2 = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(s + 16))));
  } else {
    static_assert(std::is_same_v<T, std::uint16_t>);
    a0 = _mm256_cvtepi32_ps(_mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(s))));
    a1 = _mm256_cvtepi32_ps(_mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(s + 8))));
    a2 = _mm256_cvtepi32_ps(_mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(s + 16))));
  }
}

// a0 = r0 g0 b0 r1 g1 b1 r2 g2 | a1 = b2 r3 g3 b3 r4 g4 b4 r5 | a2 = g5 b5 r6 g6 b6 r7 g7 b7.
// Lane j of a blend of the three holds sample j, j + 8 or j + 16; the lane sets {0,3,6}, {1,4,7}, {2,5}
// pick one channel, which a permute then puts in pixel order.
SEGEN_AVX2_INLINE void deinterleave(__m256 a0, __m256 a1, __m256 a2, __m256& r, __m256& g, __m256& b) {
  const __m256 tr = _mm256_blend_ps(_mm256_blend_ps(a0, a1, 0x92), a2, 0x24);  // r0 r3 r6 r1 r4 r7 r2 r5
  const __m256 tg = _mm256_blend_ps(_mm256_blend_ps(a0, a1, 0x24), a2, 0x49);  // g5 g0 g3 g6 g1 g4 g7 g2
  const __m256 tb = _mm256_blend_ps(_mm256_blend_ps(a0, a1, 0x49), a2, 0x92);  // b2 b5 b0 b3 b6 b1 b4 b7
  r = _mm256_permutevar8x32_ps(tr, _mm256_setr_epi32(0, 3, 6, 1, 4, 7, 2, 5));
  g = _mm256_permutevar8x32_ps(tg, _mm256_setr_epi32(1, 4, 7, 2, 5, 0, 3, 6));
  b = _mm256_permutevar8x32_ps(tb, _mm256_setr_epi32(2, 5, 0, 3, 6, 1, 4, 7));
}

/// The inverse of deinterleave().
SEGEN_AVX2_INLINE void interleave(__m256 r, __m256 g, __m256 b, __m256& a0, __m256& a1, __m256& a2) {
  const __m256 tr = _mm256_permutevar8x32_ps(r, _mm256_setr_epi32(0, 3, 6, 1, 4, 7, 2, 5));
  const __m256 tg = _mm256_permutevar8x32_ps(g, _mm256_setr_epi32(5, 0, 3, 6, 1, 4, 7, 2));
  const __m256 tb = _mm256_permutevar8x32_ps(b, _mm256_setr_epi32(2, 5, 0, 3, 6, 1, 4, 7));
  a0 = _mm256_blend_ps(_mm256_blend_ps(tr, tg, 0x92), tb, 0x24);
  a1 = _mm256_blend_ps(_mm256_blend_ps(tr, tg, 0x24), tb, 0x49);
  a2 = _mm256_blend_ps(_mm256_blend_ps(tr, tg, 0x49), tb, 0x92);
}

// ---- the per-pixel formulas (8 pixels) -------------------------------------------------------------

/// HSV -> RGB, as rgb_planar() in color.cpp; `kNan` makes a pixel with a NaN input NaN throughout.
template <bool kNan>
struct HsvToRgb {
  __m256 scale;  // 1/255, 1/65535 or 1 on all three inputs
  SEGEN_AVX2_INLINE static __m256 channel(float n, __m256 h6, __m256 v, __m256 vs) {
    const __m256 k = _mm256_add_ps(_mm256_set1_ps(n), h6);
    const __m256 kk = _mm256_fnmadd_ps(
        _mm256_set1_ps(6.0f), _mm256_floor_ps(_mm256_mul_ps(k, _mm256_set1_ps(1.0f / 6.0f))), k);
    const __m256 w = _mm256_max_ps(
        _mm256_setzero_ps(),
        _mm256_min_ps(_mm256_min_ps(kk, _mm256_sub_ps(_mm256_set1_ps(4.0f), kk)), _mm256_set1_ps(1.0f)));
    return _mm256_fnmadd_ps(vs, w, v);
  }
  SEGEN_AVX2_INLINE void operator()(__m256 h, __m256 s, __m256 v, __m256& r, __m256& g, __m256& b) const {
    h = _mm256_mul_ps(h, scale);
    s = _mm256_mul_ps(s, scale);
    v = _mm256_mul_ps(v, scale);
    __m256 hc = h, sc = s, vc = v;
    if constexpr (kNan) {  // clamped to +-kHsvLimit as in color.cpp's rgb_planar (NaN lanes are set below)
      const __m256 hi = _mm256_set1_ps(kHsvLimit<float>), lo = _mm256_set1_ps(-kHsvLimit<float>);
      hc = _mm256_max_ps(_mm256_min_ps(h, hi), lo);
      sc = _mm256_max_ps(_mm256_min_ps(s, hi), lo);
      vc = _mm256_max_ps(_mm256_min_ps(v, hi), lo);
    }
    const __m256 h6 = _mm256_mul_ps(hc, _mm256_set1_ps(6.0f)), vs = _mm256_mul_ps(vc, sc);
    r = channel(5.0f, h6, vc, vs);
    g = channel(3.0f, h6, vc, vs);
    b = channel(1.0f, h6, vc, vs);
    if constexpr (kNan) {
      const __m256 bad = _mm256_or_ps(_mm256_cmp_ps(h, s, _CMP_UNORD_Q), _mm256_cmp_ps(v, v, _CMP_UNORD_Q));
      const __m256 nan = _mm256_and_ps(bad, _mm256_set1_ps(__builtin_nanf("")));
      r = _mm256_add_ps(r, nan);
      g = _mm256_add_ps(g, nan);
      b = _mm256_add_ps(b, nan);
    }
  }
};

// ---- RGB -> HSV in one pass ------------------------------------------------------------------------

/// 8 pixels of RGB -> HSV, bit for bit hsv_pixels<HsvArith::Fast, kChecked> (color_hsv.hpp; kChecked for
/// float input), in fewer instructions, which matters because this loop runs at about the speed of
/// memory: the channels are used in the lane order the blends leave red in (two permutes in and two out
/// instead of three each); grey pixels divide by their zero delta and are masked afterwards instead of
/// having their divisors chosen first; one mask per result (grey, NaN sample, NaN result) replaces the
/// per-sample selects; float input skips V's scaling by 1.
/// A store of 8 floats; kStream: non-temporal, to a 32-byte aligned `d`.
template <bool kStream>
SEGEN_AVX2_INLINE void store8(float* d, __m256 v) {
  if constexpr (kStream) _mm256_stream_ps(d, v);
  else _mm256_storeu_ps(d, v);
}

/// Pixels before the first whose 3 float outputs start on an `align`-byte boundary of `d` (at most
/// align / 4 - 1 of them: 12-byte pixels meet every 4-byte residue), or -1 when `d` is not 4-byte aligned.
inline std::ptrdiff_t stream_head(const float* d, std::uintptr_t align) {
  const auto a = reinterpret_cast<std::uintptr_t>(d);
  if (a % sizeof(float) != 0) return -1;
  std::ptrdiff_t head = 0;
  while ((a + 12 * static_cast<std::uintptr_t>(head)) % align != 0) ++head;
  return head;
}

template <class T, bool kStream = false>
SEGEN_AVX2_INLINE void hsv_block(const T* s, float* d, __m256 scale) {
  constexpr bool kChecked = std::is_same_v<T, float>;
  __m256 a0, a1, a2;
  load24<T>(s, a0, a1, a2);
  // lane order (0 3 6 1 4 7 2 5) of pixels, as deinterleave() leaves red before its permute
  const __m256 r = _mm256_blend_ps(_mm256_blend_ps(a0, a1, 0x92), a2, 0x24);
  const __m256 g = _mm256_permutevar8x32_ps(_mm256_blend_ps(_mm256_blend_ps(a0, a1, 0x24), a2, 0x49),
                                            _mm256_setr_epi32(1, 2, 3, 4, 5, 6, 7, 0));
  const __m256 b = _mm256_permutevar8x32_ps(_mm256_blend_ps(_mm256_blend_ps(a0, a1, 0x49), a2, 0x92),
                                            _mm256_setr_epi32(2, 3, 4, 5, 6, 7, 0, 1));
  const __m256 zero = _mm256_setzero_ps();
  const __m256 mx = _mm256_max_ps(_mm256_max_ps(r, g), b), mn = _mm256_min_ps(_mm256_min_ps(r, g), b);
  const __m256 delta = _mm256_sub_ps(mx, mn);
  const __m256 grey = _mm256_cmp_ps(delta, zero, _CMP_EQ_OQ);
  const __m256 is_b = _mm256_cmp_ps(b, mx, _CMP_EQ_OQ), is_g = _mm256_cmp_ps(g, mx, _CMP_EQ_OQ);
  const __m256 num = _mm256_blendv_ps(_mm256_blendv_ps(_mm256_sub_ps(g, b), _mm256_sub_ps(b, r), is_g),
                                      _mm256_sub_ps(r, g), is_b);
  const __m256 off = _mm256_blendv_ps(_mm256_and_ps(is_g, _mm256_set1_ps(2.0f)), _mm256_set1_ps(4.0f), is_b);
  const __m256 h0 = _mm256_mul_ps(_mm256_add_ps(off, _mm256_div_ps(num, delta)), _mm256_set1_ps(1.0f / 6.0f));
  const __m256 hh =
      _mm256_blendv_ps(h0, _mm256_add_ps(h0, _mm256_set1_ps(1.0f)), _mm256_cmp_ps(h0, zero, _CMP_LT_OQ));
  const __m256 ss = _mm256_div_ps(delta, mx);
  __m256 h, sat, v;
  if constexpr (kChecked) {
    const __m256 nan_in = _mm256_or_ps(_mm256_cmp_ps(r, g, _CMP_UNORD_Q), _mm256_cmp_ps(b, b, _CMP_UNORD_Q));
    const __m256 zeroed = _mm256_or_ps(grey, nan_in);
    h = _mm256_andnot_ps(_mm256_or_ps(zeroed, _mm256_cmp_ps(hh, hh, _CMP_UNORD_Q)), hh);
    sat = _mm256_andnot_ps(_mm256_or_ps(zeroed, _mm256_cmp_ps(ss, ss, _CMP_UNORD_Q)), ss);
    v = _mm256_andnot_ps(nan_in, mx);  // the max of non-NaN samples is never NaN
  } else {  // integer samples: never NaN
    h = _mm256_andnot_ps(grey, hh);
    sat = _mm256_andnot_ps(grey, ss);
    v = _mm256_mul_ps(mx, scale);
  }
  // back to memory order: H stands where red stood, S and V rotate into green's and blue's lane orders
  const __m256 tg = _mm256_permutevar8x32_ps(sat, _mm256_setr_epi32(7, 0, 1, 2, 3, 4, 5, 6));
  const __m256 tb = _mm256_permutevar8x32_ps(v, _mm256_setr_epi32(6, 7, 0, 1, 2, 3, 4, 5));
  store8<kStream>(d, _mm256_blend_ps(_mm256_blend_ps(h, tg, 0x92), tb, 0x24));
  store8<kStream>(d + 8, _mm256_blend_ps(_mm256_blend_ps(h, tg, 0x24), tb, 0x49));
  store8<kStream>(d + 16, _mm256_blend_ps(_mm256_blend_ps(h, tg, 0x49), tb, 0x92));
}

// ---- drivers ---------------------------------------------------------------------------------------

template <class T, class F, bool kStream = false>
SEGEN_AVX2_INLINE void block3(const T* s, float* d, const F& f) {
  __m256 a0, a1, a2, x, y, z;
  load24<T>(s, a0, a1, a2);
  deinterleave(a0, a1, a2, x, y, z);
  f(x, y, z, x, y, z);
  interleave(x, y, z, a0, a1, a2);
  store8<kStream>(d, a0);
  store8<kStream>(d + 8, a1);
  store8<kStream>(d + 16, a2);
}

/// Pixels i0 .. i0 + m - 1 (m < 8) through zero-padded buffers: block3 with `f`, or hsv_block when F is
/// HsvBlock.
struct HsvBlock {
  __m256 scale;
};

template <class T, class F>
SEGEN_AVX2_INLINE void partial8(const T* s, float* d, std::ptrdiff_t i0, std::ptrdiff_t m, const F& f) {
  T in[24] = {};
  float out[24];
  std::memcpy(in, s + 3 * i0, sizeof(T) * 3 * static_cast<std::size_t>(m));
  if constexpr (std::is_same_v<F, HsvBlock>) hsv_block<T>(in, out, f.scale);
  else block3<T>(in, out, f);
  std::memcpy(d + 3 * i0, out, sizeof(float) * 3 * static_cast<std::size_t>(m));
}

/// Convert n pixels of 3 samples to 3 float samples with `f`, 8 at a time; the last n % 8 go through
/// zero-padded buffers. `stream`: as color_avx512::run3 (non-temporal stores after a 32-byte aligned head).
template <class T, class F>
SEGEN_AVX2_FN void run3(const T* s, float* d, std::ptrdiff_t n, const F& f, bool stream) {
  std::ptrdiff_t i = 0;
  const std::ptrdiff_t head = stream ? std::min(stream_head(d, 32), n) : -1;
  if (head >= 0) {
    if (head > 0) partial8<T>(s, d, 0, head, f);
    for (i = head; i + 8 <= n; i += 8) block3<T, F, true>(s + 3 * i, d + 3 * i, f);
    _mm_sfence();
  }
  for (; i + 8 <= n; i += 8) block3<T>(s + 3 * i, d + 3 * i, f);
  if (i < n) partial8<T>(s, d, i, n - i, f);
}

// ---- row functions for color.cpp (`scale` brings a sample to [0, 1]; `stream`: as run3) --------------

template <class T>
SEGEN_AVX2_FN void hsv_row(const T* s, float* d, std::ptrdiff_t n, float scale, bool stream) {
  const __m256 sc = _mm256_set1_ps(scale);
  const HsvBlock block{sc};
  std::ptrdiff_t i = 0;
  const std::ptrdiff_t head = stream ? std::min(stream_head(d, 32), n) : -1;
  if (head > 0) partial8<T>(s, d, 0, head, block);
  if (head >= 0) i = head;
  for (; i + 8 <= n; i += 8) {
    // Reading 4 KiB ahead gained 8-12% (float input, 48 MiB, AMD Zen 3), where the hardware prefetcher
    // alone left the loop waiting on the input; past the end of the span is harmless (no fault).
    _mm_prefetch(reinterpret_cast<const char*>(s + 3 * i) + 4096, _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(s + 3 * i + 16) + 4096, _MM_HINT_T0);
    if (head >= 0) hsv_block<T, true>(s + 3 * i, d + 3 * i, sc);
    else hsv_block<T>(s + 3 * i, d + 3 * i, sc);
  }
  if (head >= 0) _mm_sfence();
  if (i < n) partial8<T>(s, d, i, n - i, block);  // the last n % 8 pixels
}

template <class T>
SEGEN_AVX2_FN void hsv2rgb_row(const T* s, float* d, std::ptrdiff_t n, float scale, bool stream) {
  run3<T>(s, d, n, HsvToRgb<std::is_same_v<T, float>>{_mm256_set1_ps(scale)}, stream);
}

#undef SEGEN_AVX2_FN
#undef SEGEN_AVX2_INLINE

#endif

}  // namespace segen::detail::color_avx2
