#pragma once
// Private to color.cpp: AVX-512 versions of the kernels in color_avx2.hpp, sixteen pixels at a time,
// for CPUs of level x86-64-v4. Same operations in the same order as the AVX2 kernels, so
// both give identical results; RGB is de-interleaved with two-source lane permutes (two per channel).

#include <algorithm>  // std::min
#include <cstddef>  // std::ptrdiff_t, std::size_t
#include <cstdint>  // std::uint8_t, std::uint16_t, std::uintptr_t
#include <cstring>  // std::memcpy
#include <type_traits>

#include "color_avx2.hpp"  // SEGEN_COLOR_HAVE_AVX2

namespace segen::detail::color_avx512 {

#if SEGEN_COLOR_HAVE_AVX2

#define SEGEN_AVX512_FN __attribute__((target("avx2,fma,avx512f,avx512bw,avx512dq,avx512vl")))
#define SEGEN_AVX512_INLINE inline __attribute__((target("avx2,fma,avx512f,avx512bw,avx512dq,avx512vl"), always_inline))


// ---- 16 interleaved pixels as three float vectors (48 samples, memory order) -------------------------

template <class T>
SEGEN_AVX512_INLINE void load48(const T* s, __m512& a0, __m512& a1, __m512& a2) {
  if constexpr (std::is_same_v<T, float>) {
    a0 = _mm512_loadu_ps(s);
    a1 = _mm512_loadu_ps(s + 16);
    a2 = _mm512_loadu_ps(s + 32);
  } else if constexpr (std::is_same_v<T, std::uint8_t>) {
    a0 = _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(s))));
    a1 = _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(s + 16))));
    a2 = _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(s + 32))));
  } else {
    static_assert(std::is_same_v<T, std::uint16_t>);
    a0 = _mm512_cvtepi32_ps(_mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(s))));
    a1 = _mm512_cvtepi32_ps(_mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(s + 16))));
    a2 = _mm512_cvtepi32_ps(_mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(s + 32))));
  }
}

/// Channel c of the 16 pixels: samples 3j + c below 32 come from a0:a1, the others from a2.
template <int c>
SEGEN_AVX512_INLINE __m512 gather_channel(__m512 a0, __m512 a1, __m512 a2) {
  alignas(64) static constexpr int kFirst[3][16] = {
      {0, 3, 6, 9, 12, 15, 18, 21, 24, 27, 30, 0, 0, 0, 0, 0},
      {1, 4, 7, 10, 13, 16, 19, 22, 25, 28, 31, 0, 0, 0, 0, 0},
      {2, 5, 8, 11, 14, 17, 20, 23, 26, 29, 0, 0, 0, 0, 0, 0}};
  alignas(64) static constexpr int kSecond[3][16] = {
      {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 16 + 1, 16 + 4, 16 + 7, 16 + 10, 16 + 13},
      {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 16 + 2, 16 + 5, 16 + 8, 16 + 11, 16 + 14},
      {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 16 + 0, 16 + 3, 16 + 6, 16 + 9, 16 + 12, 16 + 15}};
  const __m512 t = _mm512_permutex2var_ps(a0, _mm512_load_si512(kFirst[c]), a1);
  return _mm512_permutex2var_ps(t, _mm512_load_si512(kSecond[c]), a2);
}

/// Samples 16 q .. 16 q + 15 of the interleaved r, g, b.
template <int q>
SEGEN_AVX512_INLINE __m512 scatter_part(__m512 r, __m512 g, __m512 b) {
  // Sample k = 16 q + i is channel k % 3 of pixel k / 3: first r and g (lanes 0-15 and 16-31), then b.
  alignas(64) static constexpr int kIdx[2][3][16] = {
      {{0, 16, 0, 1, 17, 0, 2, 18, 0, 3, 19, 0, 4, 20, 0, 5},
       {21, 0, 6, 22, 0, 7, 23, 0, 8, 24, 0, 9, 25, 0, 10, 26},
       {0, 11, 27, 0, 12, 28, 0, 13, 29, 0, 14, 30, 0, 15, 31, 0}},
      {{0, 1, 16, 3, 4, 17, 6, 7, 18, 9, 10, 19, 12, 13, 20, 15},
       {0, 21, 2, 3, 22, 5, 6, 23, 8, 9, 24, 11, 12, 25, 14, 15},
       {26, 1, 2, 27, 4, 5, 28, 7, 8, 29, 10, 11, 30, 13, 14, 31}}};
  const __m512 t = _mm512_permutex2var_ps(r, _mm512_load_si512(kIdx[0][q]), g);
  return _mm512_permutex2var_ps(t, _mm512_load_si512(kIdx[1][q]), b);
}

// ---- the per-pixel formulas (16 pixels), as color_avx2::Hsv / HsvToRgb --------------------------------

template <bool kChecked>
struct Hsv {
  float scale;  // applied to V only (1/255, 1/65535 or 1)
  SEGEN_AVX512_INLINE void operator()(__m512 r, __m512 g, __m512 b, __m512& h, __m512& s, __m512& v) const {
    hsv_pixels<HsvArith::Fast, false, float>(r, g, b, scale, h, s, v);
    if constexpr (kChecked) {
      // hsv_pixels' own NaN selects, written with mask registers: GCC turned the vector-extension form of
      // them into scalar compares and branches on 512-bit vectors (rgb2hsv float32 ran 3x slower than AVX2).
      const __mmask16 ok = _mm512_cmp_ps_mask(r, g, _CMP_ORD_Q) & _mm512_cmp_ps_mask(b, b, _CMP_ORD_Q);
      h = _mm512_maskz_mov_ps(ok & _mm512_cmp_ps_mask(h, h, _CMP_ORD_Q), h);
      s = _mm512_maskz_mov_ps(ok & _mm512_cmp_ps_mask(s, s, _CMP_ORD_Q), s);
      v = _mm512_maskz_mov_ps(ok & _mm512_cmp_ps_mask(v, v, _CMP_ORD_Q), v);
    }
  }
};

template <bool kNan>
struct HsvToRgb {
  __m512 scale;
  SEGEN_AVX512_INLINE static __m512 channel(float n, __m512 h6, __m512 v, __m512 vs) {
    const __m512 k = _mm512_add_ps(_mm512_set1_ps(n), h6);
    const __m512 fl = _mm512_roundscale_ps(_mm512_mul_ps(k, _mm512_set1_ps(1.0f / 6.0f)),
                                           _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC);
    const __m512 kk = _mm512_fnmadd_ps(_mm512_set1_ps(6.0f), fl, k);
    const __m512 w = _mm512_max_ps(
        _mm512_setzero_ps(),
        _mm512_min_ps(_mm512_min_ps(kk, _mm512_sub_ps(_mm512_set1_ps(4.0f), kk)), _mm512_set1_ps(1.0f)));
    return _mm512_fnmadd_ps(vs, w, v);
  }
  SEGEN_AVX512_INLINE void operator()(__m512 h, __m512 s, __m512 v, __m512& r, __m512& g, __m512& b) const {
    h = _mm512_mul_ps(h, scale);
    s = _mm512_mul_ps(s, scale);
    v = _mm512_mul_ps(v, scale);
    __m512 hc = h, sc = s, vc = v;
    if constexpr (kNan) {  // clamped to +-kHsvLimit as in color.cpp's rgb_planar (NaN lanes are set below)
      const __m512 hi = _mm512_set1_ps(kHsvLimit<float>), lo = _mm512_set1_ps(-kHsvLimit<float>);
      hc = _mm512_max_ps(_mm512_min_ps(h, hi), lo);
      sc = _mm512_max_ps(_mm512_min_ps(s, hi), lo);
      vc = _mm512_max_ps(_mm512_min_ps(v, hi), lo);
    }
    const __m512 h6 = _mm512_mul_ps(hc, _mm512_set1_ps(6.0f)), vs = _mm512_mul_ps(vc, sc);
    r = channel(5.0f, h6, vc, vs);
    g = channel(3.0f, h6, vc, vs);
    b = channel(1.0f, h6, vc, vs);
    if constexpr (kNan) {
      const __mmask16 bad = _mm512_cmp_ps_mask(h, s, _CMP_UNORD_Q) | _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
      const __m512 nan = _mm512_set1_ps(__builtin_nanf(""));
      r = _mm512_mask_mov_ps(r, bad, nan);
      g = _mm512_mask_mov_ps(g, bad, nan);
      b = _mm512_mask_mov_ps(b, bad, nan);
    }
  }
};

// ---- drivers ---------------------------------------------------------------------------------------

/// A store of 16 floats; kStream: non-temporal, to a 64-byte aligned `d`.
template <bool kStream>
SEGEN_AVX512_INLINE void store16(float* d, __m512 v) {
  if constexpr (kStream) _mm512_stream_ps(d, v);
  else _mm512_storeu_ps(d, v);
}

template <class T, class F, bool kStream = false>
SEGEN_AVX512_INLINE void block3(const T* s, float* d, const F& f) {
  __m512 a0, a1, a2, x, y, z;
  load48<T>(s, a0, a1, a2);
  x = gather_channel<0>(a0, a1, a2);
  y = gather_channel<1>(a0, a1, a2);
  z = gather_channel<2>(a0, a1, a2);
  f(x, y, z, x, y, z);
  store16<kStream>(d, scatter_part<0>(x, y, z));
  store16<kStream>(d + 16, scatter_part<1>(x, y, z));
  store16<kStream>(d + 32, scatter_part<2>(x, y, z));
}

/// Pixels i0 .. i0 + m - 1 (m < 16) through zero-padded buffers.
template <class T, class F>
SEGEN_AVX512_INLINE void partial3(const T* s, float* d, std::ptrdiff_t i0, std::ptrdiff_t m, const F& f) {
  T in[48] = {};
  float out[48];
  std::memcpy(in, s + 3 * i0, sizeof(T) * 3 * static_cast<std::size_t>(m));
  block3<T>(in, out, f);
  std::memcpy(d + 3 * i0, out, sizeof(float) * 3 * static_cast<std::size_t>(m));
}

/// Convert n pixels of 3 samples to 3 float samples with `f`, 16 at a time; the last n % 16 go through
/// zero-padded buffers.
///
/// `stream` (an output far larger than the caches, color.cpp's for_pixels): the first pixels up to a
/// 64-byte boundary of `d` go through the buffers, the rest is written with non-temporal stores, which
/// skip reading each output line before writing it (2048 x 2048 float32 rgb2hsv into `out=`: 3.0 -> 2.8 ms).
/// Otherwise, for integer input the output stream is 2 or 4 times the input one, and writing it is what
/// limits the loop: the output lines are prefetched 16 KiB ahead (measured on a 2048 x 2048 uint8 image
/// with the output not in cache: rgb2hsv 3.1 -> 1.7 ms; for float input it did not pay).
template <class T, class F>
SEGEN_AVX512_FN void run3(const T* s, float* d, std::ptrdiff_t n, const F& f, bool stream) {
  std::ptrdiff_t i = 0;
  const std::ptrdiff_t head = stream ? std::min(color_avx2::stream_head(d, 64), n) : -1;
  if (head >= 0) {
    if (head > 0) partial3<T>(s, d, 0, head, f);
    for (i = head; i + 16 <= n; i += 16) block3<T, F, true>(s + 3 * i, d + 3 * i, f);
    _mm_sfence();
  } else if constexpr (!std::is_floating_point_v<T>) {
    constexpr std::ptrdiff_t kAhead = 16384;  // bytes
    for (; i + 16 <= n; i += 16) {
      const char* ahead = reinterpret_cast<const char*>(d + 3 * i) + kAhead;  // 16 pixels: 3 lines of 64 B
      __builtin_prefetch(ahead, 1, 3);
      __builtin_prefetch(ahead + 64, 1, 3);
      __builtin_prefetch(ahead + 128, 1, 3);
      block3<T>(s + 3 * i, d + 3 * i, f);
    }
  }
  for (; i + 16 <= n; i += 16) block3<T>(s + 3 * i, d + 3 * i, f);
  if (i < n) partial3<T>(s, d, i, n - i, f);
}

template <class T>
SEGEN_AVX512_FN void hsv_row(const T* s, float* d, std::ptrdiff_t n, float scale, bool stream) {
  run3<T>(s, d, n, Hsv<std::is_same_v<T, float>>{scale}, stream);
}

template <class T>
SEGEN_AVX512_FN void hsv2rgb_row(const T* s, float* d, std::ptrdiff_t n, float scale, bool stream) {
  run3<T>(s, d, n, HsvToRgb<std::is_same_v<T, float>>{_mm512_set1_ps(scale)}, stream);
}

#undef SEGEN_AVX512_FN
#undef SEGEN_AVX512_INLINE

#endif

}  // namespace segen::detail::color_avx512
