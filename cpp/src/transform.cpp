#include "segen/transform.hpp"

#include <algorithm>  // std::clamp, std::copy, std::fill, std::min, std::max
#include <cmath>      // std::floor, std::round, std::cos, std::sin, std::fmod, std::nearbyint, std::fma
#include <cstdint>
#include <limits>     // std::numeric_limits
#include <string>
#include <type_traits>
#include <vector>

#include "detail/common.hpp"
#include "detail/x86_intrin.hpp"
#include "segen/parallel.hpp"

namespace segen {
namespace {

using u8 = std::uint8_t;
using u16 = std::uint16_t;

/// Arithmetic type of the interpolation: double for double images, float otherwise.
template <class T>
using work_t = std::conditional_t<std::is_same_v<T, double>, double, float>;

/// Round-to-nearest (halves up) and saturate for integer T; plain conversion for floating T.
template <class T, class W>
SEGEN_ALWAYS_INLINE T to_pixel(W v) {
  if constexpr (std::is_floating_point_v<T>) {
    return static_cast<T>(v);
  } else {
    constexpr W hi = W(std::numeric_limits<T>::max());
    W r = v + W(0.5);
    r = r < W(0) ? W(0) : r;
    r = r > hi ? hi : r;
    return static_cast<T>(static_cast<std::int32_t>(r));
  }
}

std::string str(std::ptrdiff_t v) { return std::to_string(v); }

// ================================================================================================
// resize: separable resampling with per-axis tap tables
// ================================================================================================

/// For each output index o of one axis: K input indices and weights (a weighted sum of input samples).
template <class W>
struct Taps {
  std::ptrdiff_t n = 0, K = 0;
  std::vector<std::int32_t> idx;  // n * K
  std::vector<W> w;               // n * K
  /// When every output o reads inputs o * K + k with the same K weights (integer shrink factors of the
  /// area method, bilinear halving): a strided kernel that vectorises.
  bool uniform = false;
};

struct TapsD {  // double-precision construction form
  std::ptrdiff_t n = 0, K = 0;
  std::vector<std::int32_t> idx;
  std::vector<double> w;
  void init(std::ptrdiff_t n_, std::ptrdiff_t K_) {
    n = n_;
    K = K_;
    idx.assign(static_cast<std::size_t>(n * K), 0);
    w.assign(static_cast<std::size_t>(n * K), 0.0);
  }
};

inline std::int32_t clampi(std::ptrdiff_t i, std::ptrdiff_t n) {
  return static_cast<std::int32_t>(i < 0 ? 0 : (i >= n ? n - 1 : i));
}

/// Bilinear, half-pixel centres, edge pixels repeated; with `sigma` > 0 each of the two samples is first
/// smoothed by a Gaussian (radius int(4 sigma + 0.5), edge repeated), as scikit-image does.
TapsD bilinear_taps(std::ptrdiff_t in, std::ptrdiff_t out, double sigma) {
  const double scale = double(in) / double(out);
  std::vector<double> g(1, 1.0);
  std::ptrdiff_t r = 0;
  if (sigma > 0) {
    r = static_cast<std::ptrdiff_t>(4.0 * sigma + 0.5);
    g.assign(static_cast<std::size_t>(2 * r + 1), 0.0);
    double sum = 0;
    for (std::ptrdiff_t k = -r; k <= r; ++k) sum += g[k + r] = std::exp(-0.5 * (double(k) / sigma) * (double(k) / sigma));
    for (double& v : g) v /= sum;
  }
  TapsD t;
  t.init(out, 2 * (2 * r + 1));
  for (std::ptrdiff_t o = 0; o < out; ++o) {
    const double c = (double(o) + 0.5) * scale - 0.5;
    const double fl = std::floor(c);
    const double f = c - fl;
    const std::ptrdiff_t i0 = static_cast<std::ptrdiff_t>(fl);
    // A zero weight still multiplies its sample (0 * NaN = NaN): point it at the other tap's pixel so
    // that a non-finite pixel only reaches the outputs that really depend on it.
    const std::int32_t j[2] = {clampi(i0, in), f == 0.0 ? clampi(i0, in) : clampi(i0 + 1, in)};
    const double wj[2] = {1.0 - f, f};
    std::ptrdiff_t k = o * t.K;
    for (int s = 0; s < 2; ++s)
      for (std::ptrdiff_t d = -r; d <= r; ++d, ++k) {
        t.idx[k] = clampi(j[s] + d, in);
        t.w[k] = wj[s] * g[d + r];
      }
  }
  return t;
}

/// OpenCV's INTER_AREA along one axis: box average over [o s, (o + 1) s) when shrinking (slivers under
/// 1/1000 of a pixel ignored, as OpenCV does); when growing, OpenCV's two-tap "area" weights.
TapsD area_taps(std::ptrdiff_t in, std::ptrdiff_t out) {
  TapsD t;
  if (out > in) {
    const double scale = double(in) / double(out), inv = double(out) / double(in);
    t.init(out, 2);
    for (std::ptrdiff_t o = 0; o < out; ++o) {
      const std::ptrdiff_t sx = static_cast<std::ptrdiff_t>(std::floor(double(o) * scale));
      double fx = double(o + 1) - double(sx + 1) * inv;
      fx = fx <= 0 ? 0.0 : fx - std::floor(fx);
      t.idx[2 * o] = clampi(sx, in);
      t.idx[2 * o + 1] = fx == 0.0 ? clampi(sx, in) : clampi(sx + 1, in);  // see bilinear_taps()
      t.w[2 * o] = 1.0 - fx;
      t.w[2 * o + 1] = fx;
    }
    return t;
  }
  const double scale = double(in) / double(out);
  t.init(out, static_cast<std::ptrdiff_t>(std::ceil(scale)) + 1);
  for (std::ptrdiff_t o = 0; o < out; ++o) {
    const double f1 = double(o) * scale, f2 = f1 + scale;
    const double cell = std::min(scale, double(in) - f1);
    std::ptrdiff_t s1 = static_cast<std::ptrdiff_t>(std::ceil(f1));
    std::ptrdiff_t s2 = static_cast<std::ptrdiff_t>(std::floor(f2));
    s2 = std::min(s2, in - 1);
    s1 = std::min(s1, s2);
    std::ptrdiff_t k = o * t.K;
    const std::ptrdiff_t k_end = k + t.K;
    auto add = [&](std::ptrdiff_t i, double wt) {
      if (k < k_end) {
        t.idx[k] = clampi(i, in);
        t.w[k++] = wt;
      }
    };
    if (double(s1) - f1 > 1e-3) add(s1 - 1, (double(s1) - f1) / cell);
    for (std::ptrdiff_t i = s1; i < s2; ++i) add(i, 1.0 / cell);
    if (f2 - double(s2) > 1e-3) add(s2, std::min(std::min(f2 - double(s2), 1.0), cell) / cell);
    for (const std::ptrdiff_t k0 = o * t.K; k < k_end; ++k) t.idx[k] = t.idx[k0];  // padding: weight 0
  }
  return t;
}

/// Nearest: input index floor((o + 0.5) in / out), in exact integer arithmetic.
std::vector<std::int32_t> nearest_index(std::ptrdiff_t in, std::ptrdiff_t out) {
  std::vector<std::int32_t> idx(static_cast<std::size_t>(out));
  for (std::ptrdiff_t o = 0; o < out; ++o) {
    const std::int64_t q = ((2 * std::int64_t(o) + 1) * std::int64_t(in)) / (2 * std::int64_t(out));
    idx[o] = clampi(static_cast<std::ptrdiff_t>(q), in);
  }
  return idx;
}

/// Drop taps whose weight is zero in every output (e.g. OpenCV's integer-factor area tables padded to K).
template <class W>
Taps<W> finish(const TapsD& d) {
  Taps<W> t;
  t.n = d.n;
  t.K = d.K;
  t.idx = d.idx;
  t.w.assign(d.w.begin(), d.w.end());
  // Trim trailing taps that are zero everywhere.
  while (t.K > 1) {
    bool all_zero = true;
    for (std::ptrdiff_t o = 0; o < t.n && all_zero; ++o) all_zero = d.w[o * d.K + t.K - 1] == 0.0;
    if (!all_zero) break;
    std::vector<std::int32_t> idx2(static_cast<std::size_t>(t.n * (t.K - 1)));
    std::vector<W> w2(idx2.size());
    for (std::ptrdiff_t o = 0; o < t.n; ++o)
      for (std::ptrdiff_t k = 0; k < t.K - 1; ++k) {
        idx2[o * (t.K - 1) + k] = t.idx[o * t.K + k];
        w2[o * (t.K - 1) + k] = t.w[o * t.K + k];
      }
    t.idx.swap(idx2);
    t.w.swap(w2);
    --t.K;
  }
  bool uniform = t.K >= 2 && t.K <= 4;
  for (std::ptrdiff_t o = 0; o < t.n && uniform; ++o)
    for (std::ptrdiff_t k = 0; k < t.K && uniform; ++k)
      uniform = t.idx[o * t.K + k] == o * t.K + k && t.w[o * t.K + k] == t.w[k];
  t.uniform = uniform;
  return t;
}

/// The two-tap horizontal pass (bilinear without smoothing; area when growing) as lane permutes instead of
/// gathers. A row of n pixels of C channels is taken as n C samples: block b holds output samples
/// [b L, b L + L) (L = `lanes`, 16 for AVX-512, 8 for AVX2), whose two taps all lie in the 2 L input
/// samples from base[b], at window offsets oa / ob. A block whose taps spread wider (shrinking by about
/// 2 or more, fewer with more channels) has base -1 and is computed one sample at a time, as are the
/// samples after the last whole block. Every path computes fma(a, wa, b * wb), as the gathering loops of
/// hpass() do (a * wa + b * wb on the baseline level), so the level and the path taken do not change a bit.
template <class W>
struct PairTaps {
  int lanes = 0;  // 0: not used (K != 2, a uniform table, double, no vector level, no block fits)
  std::ptrdiff_t C = 1;
  std::vector<std::int32_t> base;
  std::vector<std::uint8_t> oa, ob;  // < 2 L: a byte each
  std::vector<W> wa, wb;
};

template <class W>
PairTaps<W> pair_taps(const Taps<W>& t, std::ptrdiff_t in, std::ptrdiff_t C, int lanes) {
  PairTaps<W> p;
  const std::ptrdiff_t L = lanes, blocks = lanes > 0 ? t.n * C / L : 0;
  // The table takes 10 bytes an output sample: rows of more than 2**20 samples keep the gathering loop.
  if (t.K != 2 || t.uniform || blocks == 0 || in * C < 2 * L || in * C > std::numeric_limits<std::int32_t>::max() ||
      t.n * C > (std::ptrdiff_t(1) << 20))
    return p;
  p.lanes = lanes;
  p.C = C;
  p.base.assign(static_cast<std::size_t>(blocks), -1);
  p.oa.assign(static_cast<std::size_t>(blocks * L), 0);
  p.ob = p.oa;
  p.wa.assign(static_cast<std::size_t>(blocks * L), W(0));
  p.wb = p.wa;
  auto tap = [&](std::ptrdiff_t e, int k) { return t.idx[2 * (e / C) + k] * std::int32_t(C) + std::int32_t(e % C); };
  bool any = false;
  for (std::ptrdiff_t b = 0; b < blocks; ++b) {
    std::int32_t lo = tap(b * L, 0), hi = lo;
    for (std::ptrdiff_t e = b * L; e < (b + 1) * L; ++e)
      for (int k = 0; k < 2; ++k) {
        lo = std::min(lo, tap(e, k));
        hi = std::max(hi, tap(e, k));
      }
    const std::int32_t base = std::min<std::int32_t>(lo, static_cast<std::int32_t>(in * C - 2 * L));
    if (hi - base >= 2 * L) continue;
    any = true;
    p.base[b] = base;
    for (std::ptrdiff_t e = b * L; e < (b + 1) * L; ++e) {
      p.oa[e] = static_cast<std::uint8_t>(tap(e, 0) - base);
      p.ob[e] = static_cast<std::uint8_t>(tap(e, 1) - base);
      p.wa[e] = t.w[2 * (e / C)];
      p.wb[e] = t.w[2 * (e / C) + 1];
    }
  }
  if (!any) p = PairTaps<W>();
  return p;
}

/// a * b + c, fused on the levels with FMA. The resize loops spell every multiply-add out with it, so that
/// no compiler choice (which product to fuse, or not fusing at all in a vectorised reduction) makes the
/// x86-64-v3 and v4 copies round differently.
template <detail::CpuLevel kLevel, class W>
SEGEN_ALWAYS_INLINE W mad(W a, W b, W c) {
  if constexpr (kLevel >= detail::CpuLevel::V3) return std::fma(a, b, c);
  else return a * b + c;
}

/// One output of a two-tap pass: a * wa + b * wb as fma(a, wa, b * wb) (the vector blocks' arithmetic).
template <detail::CpuLevel kLevel, class W>
SEGEN_ALWAYS_INLINE W two_taps(W a, W wa, W b, W wb) {
  return mad<kLevel, W>(a, wa, b * wb);
}

#if SEGEN_HAVE_X86_INTRIN
// The vector blocks of a two-tap pass (float work), called from the x86-64-v3 / v4 copies once per row (not
// inlined: a target attribute differs from the caller's).
#define SEGEN_PAIR_AVX2 __attribute__((target("avx2,fma")))
#define SEGEN_PAIR_AVX2_INLINE inline __attribute__((target("avx2,fma"), always_inline))
#define SEGEN_PAIR_AVX512 __attribute__((target("avx2,fma,avx512f,avx512bw,avx512dq,avx512vl")))
#define SEGEN_PAIR_AVX512_INLINE \
  inline __attribute__((target("avx2,fma,avx512f,avx512bw,avx512dq,avx512vl"), always_inline))

template <class S>
SEGEN_PAIR_AVX2_INLINE __m256 load8_ps(const S* s) {
  if constexpr (std::is_same_v<S, float>) return _mm256_loadu_ps(s);
  else if constexpr (std::is_same_v<S, u8>)
    return _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(s))));
  else return _mm256_cvtepi32_ps(_mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(s))));
}

template <class S>
SEGEN_PAIR_AVX512_INLINE __m512 load16_ps(const S* s) {
  if constexpr (std::is_same_v<S, float>) return _mm512_loadu_ps(s);
  else if constexpr (std::is_same_v<S, u8>)
    return _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(s))));
  else return _mm512_cvtepi32_ps(_mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(s))));
}

/// Output samples [e0, e1) of a two-tap pass one at a time (blocks too wide for the window): fma(a, wa, b wb).
template <class S>
SEGEN_PAIR_AVX2_INLINE void pair_samples(const S* __restrict src, float* __restrict dst,
                                         const std::int32_t* __restrict idx, const float* __restrict w,
                                         std::ptrdiff_t C, std::ptrdiff_t e0, std::ptrdiff_t e1) {
  for (std::ptrdiff_t e = e0, x = e0 / C, c = e0 % C; e < e1; ++e) {
    dst[e] = std::fma(float(src[idx[2 * x] * C + c]), w[2 * x], float(src[idx[2 * x + 1] * C + c]) * w[2 * x + 1]);
    if (++c == C) c = 0, ++x;
  }
}

/// The whole blocks of hpass_pairs() on x86-64-v3, 8 outputs at a time from the 16 samples at base[b]:
/// each tap is picked from both halves and blended by offset >= 8.
template <class S>
SEGEN_PAIR_AVX2 void pair_blocks8(const S* __restrict src, float* __restrict dst, const PairTaps<float>& p,
                                  const std::int32_t* __restrict idx, const float* __restrict w) {
  const std::ptrdiff_t blocks = static_cast<std::ptrdiff_t>(p.base.size());
  const __m256i seven = _mm256_set1_epi32(7);
  for (std::ptrdiff_t b = 0; b < blocks; ++b) {
    const std::ptrdiff_t x0 = 8 * b;
    if (p.base[b] < 0) {
      pair_samples(src, dst, idx, w, p.C, x0, x0 + 8);
      continue;
    }
    const __m256 lo = load8_ps(src + p.base[b]), hi = load8_ps(src + p.base[b] + 8);
    const __m256i ia = _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(&p.oa[x0])));
    const __m256i ib = _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(&p.ob[x0])));
    const __m256 a = _mm256_blendv_ps(_mm256_permutevar8x32_ps(lo, ia), _mm256_permutevar8x32_ps(hi, ia),
                                      _mm256_castsi256_ps(_mm256_cmpgt_epi32(ia, seven)));
    const __m256 bb = _mm256_blendv_ps(_mm256_permutevar8x32_ps(lo, ib), _mm256_permutevar8x32_ps(hi, ib),
                                       _mm256_castsi256_ps(_mm256_cmpgt_epi32(ib, seven)));
    _mm256_storeu_ps(dst + x0,
                     _mm256_fmadd_ps(a, _mm256_loadu_ps(&p.wa[x0]), _mm256_mul_ps(bb, _mm256_loadu_ps(&p.wb[x0]))));
  }
}

/// As pair_blocks8() on x86-64-v4: 16 outputs from the 32 samples at base[b] (two-source lane permutes).
template <class S>
SEGEN_PAIR_AVX512 void pair_blocks16(const S* __restrict src, float* __restrict dst, const PairTaps<float>& p,
                                     const std::int32_t* __restrict idx, const float* __restrict w) {
  const std::ptrdiff_t blocks = static_cast<std::ptrdiff_t>(p.base.size());
  for (std::ptrdiff_t b = 0; b < blocks; ++b) {
    const std::ptrdiff_t x0 = 16 * b;
    if (p.base[b] < 0) {
      pair_samples(src, dst, idx, w, p.C, x0, x0 + 16);
      continue;
    }
    const __m512 lo = load16_ps(src + p.base[b]), hi = load16_ps(src + p.base[b] + 16);
    const __m512i ia = _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(&p.oa[x0])));
    const __m512i ib = _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(&p.ob[x0])));
    const __m512 a = _mm512_permutex2var_ps(lo, ia, hi);
    const __m512 bb = _mm512_permutex2var_ps(lo, ib, hi);
    _mm512_storeu_ps(dst + x0,
                     _mm512_fmadd_ps(a, _mm512_loadu_ps(&p.wa[x0]), _mm512_mul_ps(bb, _mm512_loadu_ps(&p.wb[x0]))));
  }
}

/// int32(min(max(v + 0.5, 0), hi)) of 8 floats: to_pixel()'s rounding and clamps.
SEGEN_PAIR_AVX2_INLINE __m256i rounded_ints(__m256 v, __m256 hi) {
  const __m256 r = _mm256_add_ps(v, _mm256_set1_ps(0.5f));
  return _mm256_cvttps_epi32(_mm256_min_ps(_mm256_max_ps(r, _mm256_setzero_ps()), hi));
}

/// Samples for pack_pixels(): v[j] ...
struct FloatsAt {
  const float* v;
  SEGEN_PAIR_AVX2_INLINE __m256 operator()(std::ptrdiff_t j) const { return _mm256_loadu_ps(v + j); }
  SEGEN_PAIR_AVX2_INLINE float at(std::ptrdiff_t j) const { return v[j]; }
};

/// ... or fma(a[j], wa, b[j] * wb), vpass2()'s two taps, without a buffer between them and the rounding.
struct PairsAt {
  const float *a, *b;
  float wa, wb;
  SEGEN_PAIR_AVX2_INLINE __m256 operator()(std::ptrdiff_t j) const {
    return _mm256_fmadd_ps(_mm256_loadu_ps(a + j), _mm256_set1_ps(wa),
                           _mm256_mul_ps(_mm256_loadu_ps(b + j), _mm256_set1_ps(wb)));
  }
  SEGEN_PAIR_AVX2_INLINE float at(std::ptrdiff_t j) const { return std::fma(a[j], wa, b[j] * wb); }
};

/// d[j] = to_pixel<T>(src sample j) for j < n (T uint8 or uint16) on x86-64-v3: the same add, clamps and
/// truncation, 32 / 16 samples at a time (the compilers turn the portable loop's clamps into compares and
/// blends).
template <class T, class Src>
SEGEN_PAIR_AVX2 void pack_pixels(const Src& src, T* __restrict d, std::ptrdiff_t n) {
  const __m256 hi = _mm256_set1_ps(float(std::numeric_limits<T>::max()));
  std::ptrdiff_t j = 0;
  if constexpr (std::is_same_v<T, u8>) {
    const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    for (; j + 32 <= n; j += 32) {
      // lanes 0-3 8-11 | 4-7 12-15 of each pair of vectors
      const __m256i w0 = _mm256_packus_epi32(rounded_ints(src(j), hi), rounded_ints(src(j + 8), hi));
      const __m256i w1 = _mm256_packus_epi32(rounded_ints(src(j + 16), hi), rounded_ints(src(j + 24), hi));
      const __m256i b = _mm256_packus_epi16(w0, w1);  // per 128-bit lane: 0-3 8-11 16-19 24-27 | 4-7 ...
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(d + j), _mm256_permutevar8x32_epi32(b, order));
    }
  } else {
    for (; j + 16 <= n; j += 16) {
      const __m256i w = _mm256_packus_epi32(rounded_ints(src(j), hi), rounded_ints(src(j + 8), hi));  // 0-3 8-11 ..
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(d + j), _mm256_permute4x64_epi64(w, 0xD8));
    }
  }
  for (; j < n; ++j) d[j] = to_pixel<T, float>(src.at(j));
}

#undef SEGEN_PAIR_AVX2
#undef SEGEN_PAIR_AVX2_INLINE
#undef SEGEN_PAIR_AVX512
#undef SEGEN_PAIR_AVX512_INLINE
#endif

/// dst[x, c] = two_taps(src[idx[2 x], c], w[2 x], src[idx[2 x + 1], c], w[2 x + 1]) for x < t.n, with the
/// vector blocks of `p` where it has them.
template <detail::CpuLevel kLevel, class S, class W>
SEGEN_ALWAYS_INLINE void hpass_pairs(const S* __restrict src, W* __restrict dst, const Taps<W>& t,
                                     const PairTaps<W>& p, std::ptrdiff_t C) {
  const std::int32_t* __restrict idx = t.idx.data();
  const W* __restrict w = t.w.data();
  std::ptrdiff_t e = 0;
#if SEGEN_HAVE_X86_INTRIN
  // The table's lane count is the CPU's level (resize_into): the x86-64-v3 copy calls the AVX-512 blocks too.
  if constexpr (std::is_same_v<W, float> && kLevel >= detail::CpuLevel::V3) {
    if (p.lanes == 16) pair_blocks16<S>(src, dst, p, idx, w);
    else if (p.lanes == 8) pair_blocks8<S>(src, dst, p, idx, w);
    e = static_cast<std::ptrdiff_t>(p.base.size()) * p.lanes;
  }
#else
  (void)p;
#endif
  if (C == 1) {
    for (; e < t.n; ++e)
      dst[e] = two_taps<kLevel, W>(W(src[idx[2 * e]]), w[2 * e], W(src[idx[2 * e + 1]]), w[2 * e + 1]);
    return;
  }
  for (std::ptrdiff_t x = e / C, c = e % C; e < t.n * C; ++e) {
    dst[e] = two_taps<kLevel, W>(W(src[idx[2 * x] * C + c]), w[2 * x], W(src[idx[2 * x + 1] * C + c]), w[2 * x + 1]);
    if (++c == C) c = 0, ++x;
  }
}

/// d[j] = to_pixel<T>(v[j]) for j < n.
template <detail::CpuLevel kLevel, class T, class W>
SEGEN_ALWAYS_INLINE void to_pixels(const W* __restrict v, T* __restrict d, std::ptrdiff_t n) {
#if SEGEN_HAVE_X86_INTRIN
  if constexpr (kLevel >= detail::CpuLevel::V3 && std::is_same_v<W, float> && !std::is_floating_point_v<T>) {
    pack_pixels<T>(FloatsAt{v}, d, n);
    return;
  }
#endif
  for (std::ptrdiff_t j = 0; j < n; ++j) d[j] = to_pixel<T, W>(v[j]);
}

/// hpass_uniform() for C channels, C a compile-time constant too.
template <detail::CpuLevel kLevel, int K, int C, class S, class W>
SEGEN_ALWAYS_INLINE void hpass_uniform_c(const S* __restrict src, W* __restrict dst, const W* w, std::ptrdiff_t n) {
  for (std::ptrdiff_t x = 0; x < n; ++x)
    for (int c = 0; c < C; ++c) {
      W acc = W(src[(x * K) * C + c]) * w[0];
      for (int k = 1; k < K; ++k) acc = mad<kLevel, W>(W(src[(x * K + k) * C + c]), w[k], acc);
      dst[x * C + c] = acc;
    }
}

/// dst[x, c] = sum_k w[k] src[(x K + k), c]: the uniform case, K a compile-time constant.
template <detail::CpuLevel kLevel, int K, class S, class W>
SEGEN_ALWAYS_INLINE void hpass_uniform(const S* __restrict src, W* __restrict dst, const W* wk, std::ptrdiff_t n,
                                   std::ptrdiff_t C) {
  W w[K];
  for (int k = 0; k < K; ++k) w[k] = wk[k];
  if (C == 1) {
    for (std::ptrdiff_t x = 0; x < n; ++x) {
      W acc = W(src[x * K]) * w[0];
      for (int k = 1; k < K; ++k) acc = mad<kLevel, W>(W(src[x * K + k]), w[k], acc);
      dst[x] = acc;
    }
  } else if (C == 3) {  // the channel count as a constant, so that the loop vectorises
    hpass_uniform_c<kLevel, K, 3, S, W>(src, dst, w, n);
  } else if (C == 4) {
    hpass_uniform_c<kLevel, K, 4, S, W>(src, dst, w, n);
  } else {
    for (std::ptrdiff_t x = 0; x < n; ++x)
      for (std::ptrdiff_t c = 0; c < C; ++c) {
        W acc = W(src[(x * K) * C + c]) * w[0];
        for (int k = 1; k < K; ++k) acc = mad<kLevel, W>(W(src[(x * K + k) * C + c]), w[k], acc);
        dst[x * C + c] = acc;
      }
  }
}

// ---- row kernels ---------------------------------------------------------------------------------

/// dst[x] = sum_k w[x, k] src[idx[x, k]] for x < n, one channel, K a compile-time constant (the same
/// multiply-adds in the same order as hpass()'s loop for any K, from 0).
template <detail::CpuLevel kLevel, int K, class S, class W>
SEGEN_ALWAYS_INLINE void hpass_k(const S* __restrict src, W* __restrict dst, const std::int32_t* __restrict idx,
                                 const W* __restrict w, std::ptrdiff_t n) {
  for (std::ptrdiff_t x = 0; x < n; ++x) {
    W acc = 0;
    for (int k = 0; k < K; ++k) acc = mad<kLevel, W>(W(src[idx[x * K + k]]), w[x * K + k], acc);
    dst[x] = acc;
  }
}

/// dst[x, c] = sum_k w[x, k] src[idx[x, k], c] for x < n (C channels).
template <detail::CpuLevel kLevel, class S, class W>
SEGEN_ALWAYS_INLINE void hpass(const S* __restrict src, W* __restrict dst, const Taps<W>& t, const PairTaps<W>& p,
                           std::ptrdiff_t C) {
  const std::ptrdiff_t n = t.n, K = t.K;
  const std::int32_t* __restrict idx = t.idx.data();
  const W* __restrict w = t.w.data();
  if (t.uniform) {
    if (K == 2) hpass_uniform<kLevel, 2, S, W>(src, dst, w, n, C);
    else if (K == 3) hpass_uniform<kLevel, 3, S, W>(src, dst, w, n, C);
    else hpass_uniform<kLevel, 4, S, W>(src, dst, w, n, C);
  } else if (K == 2 && (C == 1 || p.lanes != 0)) {
    hpass_pairs<kLevel, S, W>(src, dst, t, p, C);
  } else if (K == 2 && C == 3) {
    for (std::ptrdiff_t x = 0; x < n; ++x) {
      const S* a = src + 3 * std::ptrdiff_t(idx[2 * x]);
      const S* b = src + 3 * std::ptrdiff_t(idx[2 * x + 1]);
      const W wa = w[2 * x], wb = w[2 * x + 1];
      dst[3 * x] = two_taps<kLevel, W>(W(a[0]), wa, W(b[0]), wb);
      dst[3 * x + 1] = two_taps<kLevel, W>(W(a[1]), wa, W(b[1]), wb);
      dst[3 * x + 2] = two_taps<kLevel, W>(W(a[2]), wa, W(b[2]), wb);
    }
  } else if (C == 1 && K == 3) {  // the area method shrinking by 1 to 2 (and 4 below): unrolled taps
    hpass_k<kLevel, 3, S, W>(src, dst, idx, w, n);
  } else if (C == 1 && K == 4) {
    hpass_k<kLevel, 4, S, W>(src, dst, idx, w, n);
  } else if (C == 1) {
    // Four outputs at a time: four independent chains of multiply-adds instead of one (anti-aliased shrinks
    // have 10 to 40 taps, each add waiting for the one before); each output's own order is unchanged.
    std::ptrdiff_t x = 0;
    for (; x + 4 <= n; x += 4) {
      W acc[4] = {0, 0, 0, 0};
      for (std::ptrdiff_t k = 0; k < K; ++k)
        for (int u = 0; u < 4; ++u)
          acc[u] = mad<kLevel, W>(W(src[idx[(x + u) * K + k]]), w[(x + u) * K + k], acc[u]);
      for (int u = 0; u < 4; ++u) dst[x + u] = acc[u];
    }
    for (; x < n; ++x) {
      W acc = 0;
      for (std::ptrdiff_t k = 0; k < K; ++k) acc = mad<kLevel, W>(W(src[idx[x * K + k]]), w[x * K + k], acc);
      dst[x] = acc;
    }
  } else {
    for (std::ptrdiff_t x = 0; x < n; ++x) {
      W* d = dst + x * C;
      for (std::ptrdiff_t c = 0; c < C; ++c) d[c] = 0;
      for (std::ptrdiff_t k = 0; k < K; ++k) {
        const S* s = src + std::ptrdiff_t(idx[x * K + k]) * C;
        const W wk = w[x * K + k];
        for (std::ptrdiff_t c = 0; c < C; ++c) d[c] = mad<kLevel, W>(W(s[c]), wk, d[c]);
      }
    }
  }
}

/// dst[j] = a[j] wa + b[j] wb (j < n), converted to D.
template <detail::CpuLevel kLevel, class S, class D, class W>
SEGEN_ALWAYS_INLINE void vpass2(const S* __restrict a, const S* __restrict b, W wa, W wb, D* __restrict dst,
                            std::ptrdiff_t n) {
  if constexpr (std::is_floating_point_v<D>) {
    for (std::ptrdiff_t j = 0; j < n; ++j) dst[j] = D(two_taps<kLevel, W>(W(a[j]), wa, W(b[j]), wb));
  } else {  // integer pixels: rounded and clamped by to_pixels(), through a small buffer
#if SEGEN_HAVE_X86_INTRIN
    if constexpr (kLevel >= detail::CpuLevel::V3 && std::is_same_v<S, float> && std::is_same_v<W, float>) {
      pack_pixels<D>(PairsAt{a, b, wa, wb}, dst, n);  // the same arithmetic, with no buffer
      return;
    }
#endif
    constexpr std::ptrdiff_t kChunk = 512;
    W buf[kChunk];
    for (std::ptrdiff_t j0 = 0; j0 < n; j0 += kChunk) {
      const std::ptrdiff_t m = std::min(kChunk, n - j0);
      for (std::ptrdiff_t j = 0; j < m; ++j) buf[j] = two_taps<kLevel, W>(W(a[j0 + j]), wa, W(b[j0 + j]), wb);
      to_pixels<kLevel, D, W>(buf, dst + j0, m);
    }
  }
}

template <class T>
struct ResizeJob {
  using W = work_t<T>;
  ImageView<const T> src;
  ImageView<T> out;
  Taps<W> tx, ty;
  PairTaps<W> px;  // tx's vector blocks (float work)
  bool h_first = false;
};

/// Output rows [y0, y1) of a bilinear/area resize.
template <detail::CpuLevel kLevel, class T>
SEGEN_ALWAYS_INLINE void resize_rows_impl(const ResizeJob<T>& J, std::ptrdiff_t y0, std::ptrdiff_t y1) {
  using W = work_t<T>;
  const std::ptrdiff_t C = J.src.channels, in_row = J.src.width * C, out_row = J.out.width * C;
  const Taps<W>&tx = J.tx, &ty = J.ty;
  if (J.h_first) {  // vertical taps are two neighbouring rows: cache horizontally resampled rows
    std::vector<W> buf(static_cast<std::size_t>(2 * out_row));
    std::ptrdiff_t tag[2] = {-1, -1};
    for (std::ptrdiff_t y = y0; y < y1; ++y) {
      const W* rows[2];
      for (int k = 0; k < 2; ++k) {
        const std::ptrdiff_t j = ty.idx[2 * y + k], slot = j & 1;
        if (tag[slot] != j) {
          hpass<kLevel, T, W>(J.src.row(j), buf.data() + slot * out_row, tx, J.px, C);
          tag[slot] = j;
        }
        rows[k] = buf.data() + slot * out_row;
      }
      vpass2<kLevel, W, T, W>(rows[0], rows[1], ty.w[2 * y], ty.w[2 * y + 1], J.out.row(y), out_row);
    }
    return;
  }
  std::vector<W> tmp(static_cast<std::size_t>(in_row));
  std::vector<W> acc(std::is_same_v<T, W> ? 0 : static_cast<std::size_t>(out_row));
  for (std::ptrdiff_t y = y0; y < y1; ++y) {
    const std::ptrdiff_t K = ty.K;
    const std::int32_t* iy = ty.idx.data() + y * K;
    const W* wy = ty.w.data() + y * K;
    W* __restrict t = tmp.data();
    if (K == 2) {
      vpass2<kLevel, T, W, W>(J.src.row(iy[0]), J.src.row(iy[1]), wy[0], wy[1], t, in_row);
    } else {
      const T* __restrict s0 = J.src.row(iy[0]);
      for (std::ptrdiff_t j = 0; j < in_row; ++j) t[j] = W(s0[j]) * wy[0];
      for (std::ptrdiff_t k = 1; k < K; ++k) {
        const T* __restrict s = J.src.row(iy[k]);
        const W wk = wy[k];
        for (std::ptrdiff_t j = 0; j < in_row; ++j) t[j] = mad<kLevel, W>(W(s[j]), wk, t[j]);
      }
    }
    if constexpr (std::is_same_v<T, W>) {
      hpass<kLevel, W, W>(t, J.out.row(y), tx, J.px, C);
    } else {
      hpass<kLevel, W, W>(t, acc.data(), tx, J.px, C);
      T* __restrict d = J.out.row(y);
      to_pixels<kLevel, T, W>(acc.data(), d, out_row);
    }
  }
}

/// An exact 2 x 2 shrink (the bilinear method without smoothing, and the area method, from 2 h x 2 w to
/// h x w): both axes' taps are 1/2, 1/2 on neighbouring pixels.
template <class T>
struct HalveJob {
  ImageView<const T> src;
  ImageView<T> out;
};

/// d[x, c] = (v[2 x, c] + v[2 x + 1, c] + 2) >> 2 for x < n, C channels (a compile-time constant, so that
/// the loop vectorises; 0: `channels` at run time).
template <int C, class A, class T>
SEGEN_ALWAYS_INLINE void halve_pairs(const A* __restrict v, T* __restrict d, std::ptrdiff_t n,
                                     std::ptrdiff_t channels) {
  const std::ptrdiff_t ch = C > 0 ? C : channels;
  for (std::ptrdiff_t x = 0; x < n; ++x)
    for (std::ptrdiff_t c = 0; c < ch; ++c) d[x * ch + c] = T((v[2 * x * ch + c] + v[(2 * x + 1) * ch + c] + 2) >> 2);
}

/// One-channel float pixels: the tap tables' arithmetic in one pass, so the same bits (rows first: t = a / 2 +
/// b / 2 as two_taps() rounds it, per input column; then t0 / 2 + t1 / 2 as hpass_uniform() accumulates it).
/// With more channels the two passes of resize_rows() vectorise better than this loop (RGB float32 2048 x
/// 1536: 5.0 ms in one pass, 3.6-4.0 in two), and resize_into() leaves them the work.
template <detail::CpuLevel kLevel, class T>
SEGEN_ALWAYS_INLINE void halve_floats(const T* __restrict a, const T* __restrict b, T* __restrict d,
                                      std::ptrdiff_t n) {
  const T h = T(0.5);
  for (std::ptrdiff_t x = 0; x < n; ++x) {
    const T t0 = two_taps<kLevel, T>(a[2 * x], h, b[2 * x], h);
    const T t1 = two_taps<kLevel, T>(a[2 * x + 1], h, b[2 * x + 1], h);
    d[x] = mad<kLevel, T>(t1, h, t0 * h);
  }
}

/// Output rows [y0, y1) of a HalveJob (float pixels: one channel). Integer pixels: (a + b + c + d + 2) >> 2
/// over each 2 x 2 block, in integers, which is what the float taps give: every sum and half of integers up
/// to 65535 is exact in float, and to_pixel() then rounds halves up.
template <detail::CpuLevel kLevel, class T>
SEGEN_ALWAYS_INLINE void halve_rows_impl(const HalveJob<T>& J, std::ptrdiff_t y0, std::ptrdiff_t y1) {
  const std::ptrdiff_t C = J.out.channels, n = J.out.width, m = 2 * n * C;
  if constexpr (std::is_floating_point_v<T>) {
    for (std::ptrdiff_t y = y0; y < y1; ++y)
      halve_floats<kLevel, T>(J.src.row(2 * y), J.src.row(2 * y + 1), J.out.row(y), n);
  } else {
    using A = std::conditional_t<std::is_same_v<T, u8>, std::uint16_t, std::uint32_t>;  // 4 samples + 2 fit
    std::vector<A> v(static_cast<std::size_t>(m));
    for (std::ptrdiff_t y = y0; y < y1; ++y) {
      const T* __restrict s0 = J.src.row(2 * y);
      const T* __restrict s1 = J.src.row(2 * y + 1);
      A* __restrict pv = v.data();
      for (std::ptrdiff_t e = 0; e < m; ++e) pv[e] = A(A(s0[e]) + A(s1[e]));
      T* d = J.out.row(y);
      if (C == 1) halve_pairs<1>(pv, d, n, C);
      else if (C == 3) halve_pairs<3>(pv, d, n, C);
      else if (C == 4) halve_pairs<4>(pv, d, n, C);
      else halve_pairs<0>(pv, d, n, C);
    }
  }
}

template <class T>
void nearest_rows(ImageView<const T> src, ImageView<T> out, const std::vector<std::int32_t>& ix,
                  const std::vector<std::int32_t>& iy, std::ptrdiff_t y0, std::ptrdiff_t y1) {
  const std::ptrdiff_t C = src.channels, W = out.width;
  for (std::ptrdiff_t y = y0; y < y1; ++y) {
    const T* __restrict s = src.row(iy[y]);
    T* __restrict d = out.row(y);
    if (C == 1) {
      for (std::ptrdiff_t x = 0; x < W; ++x) d[x] = s[ix[x]];
    } else {
      for (std::ptrdiff_t x = 0; x < W; ++x)
        for (std::ptrdiff_t c = 0; c < C; ++c) d[x * C + c] = s[std::ptrdiff_t(ix[x]) * C + c];
    }
  }
}

}  // namespace

namespace detail {
// The hot loops: for each pixel type, `name##_impl<kLevel, T>` compiled per CPU level (detail/dispatch.hpp).
#define SEGEN_JOB_ROWS_T(name, Job, T)                                                                          \
  SEGEN_MULTIVERSION(V3, , void, name, (const Job<T>& J, std::ptrdiff_t y0, std::ptrdiff_t y1), (J, y0, y1)) {  \
    name##_impl<kLevel, T>(J, y0, y1);                                                                          \
  }
#define SEGEN_JOB_ROWS(name, Job)                                     \
  SEGEN_JOB_ROWS_T(name, Job, u8) SEGEN_JOB_ROWS_T(name, Job, u16)    \
  SEGEN_JOB_ROWS_T(name, Job, float) SEGEN_JOB_ROWS_T(name, Job, double)
SEGEN_JOB_ROWS(resize_rows, ResizeJob)
SEGEN_JOB_ROWS(halve_rows, HalveJob)
}  // namespace detail

namespace {

void check_output_size(std::ptrdiff_t h, std::ptrdiff_t w, const char* what) {
  if (h < 1 || w < 1)
    throw InvalidArgument(std::string("`") + what + "` must be positive; got (" + str(h) + ", " + str(w) + ")");
  if (h > std::numeric_limits<std::int32_t>::max() || w > std::numeric_limits<std::int32_t>::max() ||
      h > kMaxOutputPixels / w)
    throw InvalidArgument(std::string("`") + what + "` (" + str(h) + ", " + str(w) +
                          ") exceeds the limit of 2**30 output pixels");
}

}  // namespace

template <class T>
void resize_into(ImageView<const T> src, ImageView<T> out, Interp method, bool anti_aliasing) {
  using W = work_t<T>;
  detail::require_nonempty(src, "image");
  detail::require_nonempty(out, "out");
  if (out.channels != src.channels)
    throw InvalidArgument("`out` must have " + str(src.channels) + " channels like `image`; got " +
                          str(out.channels));
  detail::require_no_overlap(src, out, "image", "out");
  check_output_size(out.height, out.width, "output_shape");
  if (src.height > std::numeric_limits<std::int32_t>::max() || src.width > std::numeric_limits<std::int32_t>::max())
    throw InvalidArgument("`image` sides must be < 2**31; got " +
                          detail::shape_str(src.height, src.width, src.channels));
  if (method != Interp::Nearest && method != Interp::Bilinear && method != Interp::Area)
    throw InvalidArgument("`method` must be Nearest, Bilinear or Area");
  if (anti_aliasing && method != Interp::Bilinear)
    throw InvalidArgument("`anti_aliasing` applies to the bilinear method only");
  const std::ptrdiff_t grain = std::max<std::ptrdiff_t>(1, 8192 / (out.width * out.channels));

  if (method == Interp::Nearest) {
    const auto ix = nearest_index(src.width, out.width), iy = nearest_index(src.height, out.height);
    parallel_for(out.height, [&](std::ptrdiff_t y0, std::ptrdiff_t y1) { nearest_rows(src, out, ix, iy, y0, y1); },
                 grain);
    return;
  }
  if ((method == Interp::Area || !anti_aliasing) && src.height == 2 * out.height && src.width == 2 * out.width &&
      (!std::is_floating_point_v<T> || src.channels == 1)) {
    const HalveJob<T> H{src, out};
    parallel_for(out.height, [&](std::ptrdiff_t y0, std::ptrdiff_t y1) { detail::halve_rows(H, y0, y1); }, grain);
    return;
  }
  ResizeJob<T> J;
  J.src = src;
  J.out = out;
  if (method == Interp::Bilinear) {
    auto sigma = [&](std::ptrdiff_t in, std::ptrdiff_t o) {
      return anti_aliasing && in > o ? (double(in) / double(o) - 1.0) / 2.0 : 0.0;
    };
    J.tx = finish<W>(bilinear_taps(src.width, out.width, sigma(src.width, out.width)));
    J.ty = finish<W>(bilinear_taps(src.height, out.height, sigma(src.height, out.height)));
  } else {
    J.tx = finish<W>(area_taps(src.width, out.width));
    J.ty = finish<W>(area_taps(src.height, out.height));
  }
#if SEGEN_HAVE_X86_INTRIN
  if constexpr (std::is_same_v<W, float>) {
    const detail::CpuLevel level = detail::cpu_level();
    J.px = pair_taps<W>(J.tx, src.width, src.channels,
                        level >= detail::CpuLevel::V4 ? 16 : level >= detail::CpuLevel::V3 ? 8 : 0);
  }
#endif
  // Rows first (then columns) costs ~ out_h * in_w; columns first ~ in_h * out_w, with each input row
  // resampled once and kept for the next output row. Growing vertically, columns first is cheaper.
  J.h_first = J.ty.K == 2 && out.height > src.height;
  parallel_for(out.height, [&](std::ptrdiff_t y0, std::ptrdiff_t y1) { detail::resize_rows(J, y0, y1); }, grain);
}

template <class T>
Image<T> resize(ImageView<const T> src, std::ptrdiff_t height, std::ptrdiff_t width, Interp method,
                bool anti_aliasing) {
  check_output_size(height, width, "output_shape");
  Image<T> out(height, width, src.channels);
  resize_into<T>(src, out.view(), method, anti_aliasing);
  return out;
}

// ================================================================================================
// rotate
// ================================================================================================

namespace {

/// cos and sin of `angle` degrees, exact for multiples of 90.
void cos_sin_deg(double angle, double& c, double& s) {
  double a = std::fmod(angle, 360.0);
  if (a < 0) a += 360.0;
  if (a == 0.0) { c = 1; s = 0; }
  else if (a == 90.0) { c = 0; s = 1; }
  else if (a == 180.0) { c = -1; s = 0; }
  else if (a == 270.0) { c = 0; s = -1; }
  else {
    const double r = angle * (3.14159265358979323846 / 180.0);
    c = std::cos(r);
    s = std::sin(r);
  }
}

struct RotGeom {
  double c = 1, s = 0;       // cos, sin
  double cr = 0, cc = 0;     // centre (row, col)
  double offr = 0, offc = 0; // canvas offset added to output coordinates
  std::ptrdiff_t out_h = 0, out_w = 0;
};

RotGeom rotation_geometry(std::ptrdiff_t h, std::ptrdiff_t w, double angle, bool resize,
                          const std::optional<std::array<double, 2>>& center) {
  if (h < 1 || w < 1)
    throw InvalidArgument("`image` must be non-empty; got shape (" + str(h) + ", " + str(w) + ")");
  if (!std::isfinite(angle)) throw InvalidArgument("`angle` must be finite; got " + detail::format_number(angle));
  RotGeom g;
  cos_sin_deg(angle, g.c, g.s);
  g.cr = center ? (*center)[0] : (double(h) / 2.0 - 0.5);
  g.cc = center ? (*center)[1] : (double(w) / 2.0 - 0.5);
  if (!std::isfinite(g.cr) || !std::isfinite(g.cc))
    throw InvalidArgument("`center` must be finite; got (" + detail::format_number(g.cr) + ", " + detail::format_number(g.cc) + ")");
  g.out_h = h;
  g.out_w = w;
  if (resize) {
    // Where the corner pixel centres go under the forward rotation (the inverse of the sampling map).
    const double pc[4] = {0.0, 0.0, double(w - 1), double(w - 1)};
    const double pr[4] = {0.0, double(h - 1), double(h - 1), 0.0};
    double minc = 0, maxc = 0, minr = 0, maxr = 0;
    for (int i = 0; i < 4; ++i) {
      const double x = pc[i] - g.cc, y = pr[i] - g.cr;
      const double oc = g.c * x + g.s * y + g.cc, orow = -g.s * x + g.c * y + g.cr;
      if (i == 0 || oc < minc) minc = oc;
      if (i == 0 || oc > maxc) maxc = oc;
      if (i == 0 || orow < minr) minr = orow;
      if (i == 0 || orow > maxr) maxr = orow;
    }
    const double hh = std::nearbyint(maxr - minr + 1.0), ww = std::nearbyint(maxc - minc + 1.0);
    if (!(hh >= 1 && ww >= 1 && hh * ww <= double(kMaxOutputPixels)))
      throw InvalidArgument("the rotated image (" + std::to_string(hh) + " x " + std::to_string(ww) +
                            ") exceeds the limit of 2**30 output pixels");
    g.out_h = static_cast<std::ptrdiff_t>(hh);
    g.out_w = static_cast<std::ptrdiff_t>(ww);
    g.offr = minr;
    g.offc = minc;
  }
  return g;
}

template <class T>
struct RotateJob {
  using W = work_t<T>;
  ImageView<const T> src;
  ImageView<T> out;
  RotGeom g;
  W cval;
  bool nearest;
};

// Tiles of kTileH x rotate_tile_width() output pixels keep the input footprint small (a rotated row of the
// output crosses many input rows: walking whole rows would thrash the caches and the TLB).
constexpr std::ptrdiff_t kTileH = 32, kTileW = 256;

/// Tile rows of about 1 KiB of pixels, 8 to kTileW pixels (a multiple of 8): at 10 to 80 degrees on
/// 2048² images, as fast as or faster than 128 pixels for every type and channel count (float32 one
/// channel: 14 ms at 30 degrees where 128 pixels took 19.6; float64 keeps 128).
inline std::ptrdiff_t rotate_tile_width(std::ptrdiff_t pixel_bytes) {
  return std::clamp<std::ptrdiff_t>(1024 / pixel_bytes / 8 * 8, 8, kTileW);
}

/// One output pixel at input position (sr, sc), any case (inside, on the border, outside).
template <class T>
SEGEN_ALWAYS_INLINE void rotate_pixel(const RotateJob<T>& J, double sr, double sc, T* px) {
  using W = work_t<T>;
  const std::ptrdiff_t H = J.src.height, Wd = J.src.width, C = J.src.channels;
  const W cval = J.cval;
  if (J.nearest) {  // scikit-image's order 0: round half away from zero
    const double rr = std::round(sr), rc = std::round(sc);
    if (rr >= 0 && rr < double(H) && rc >= 0 && rc < double(Wd)) {
      const T* s = J.src.row(static_cast<std::ptrdiff_t>(rr)) + static_cast<std::ptrdiff_t>(rc) * C;
      for (std::ptrdiff_t c = 0; c < C; ++c) px[c] = s[c];
    } else {
      for (std::ptrdiff_t c = 0; c < C; ++c) px[c] = to_pixel<T, W>(cval);
    }
    return;
  }
  if (!(sr > -1.0 && sr < double(H) && sc > -1.0 && sc < double(Wd))) {  // all four neighbours outside
    for (std::ptrdiff_t c = 0; c < C; ++c) px[c] = to_pixel<T, W>(cval);
    return;
  }
  const double fr = std::floor(sr), fc = std::floor(sc);
  const std::ptrdiff_t r0 = static_cast<std::ptrdiff_t>(fr), c0 = static_cast<std::ptrdiff_t>(fc);
  const W dr = W(sr - fr), dc = W(sc - fc);
  // scikit-image takes the upper neighbour at ceil(): the same pixel when the fraction is 0.
  const std::ptrdiff_t r1 = dr > 0 ? r0 + 1 : r0, c1 = dc > 0 ? c0 + 1 : c0;
  const bool in_r0 = r0 >= 0 && r0 < H, in_r1 = r1 >= 0 && r1 < H;
  const bool in_c0 = c0 >= 0 && c0 < Wd, in_c1 = c1 >= 0 && c1 < Wd;
  const T* s00 = in_r0 && in_c0 ? J.src.row(r0) + c0 * C : nullptr;
  const T* s01 = in_r0 && in_c1 ? J.src.row(r0) + c1 * C : nullptr;
  const T* s10 = in_r1 && in_c0 ? J.src.row(r1) + c0 * C : nullptr;
  const T* s11 = in_r1 && in_c1 ? J.src.row(r1) + c1 * C : nullptr;
  for (std::ptrdiff_t c = 0; c < C; ++c) {
    const W tl = s00 ? W(s00[c]) : cval, tr = s01 ? W(s01[c]) : cval;
    const W bl = s10 ? W(s10[c]) : cval, br = s11 ? W(s11[c]) : cval;
    const W top = (W(1) - dc) * tl + dc * tr;
    const W bottom = (W(1) - dc) * bl + dc * br;
    px[c] = to_pixel<T, W>((W(1) - dr) * top + dr * bottom);
  }
}

/// Bilinear output pixels x0 .. x0 + n - 1 (n <= kTileW) of the row at yy, in passes: positions and
/// weights, then the four neighbour loads, then the blends (on x86-64-v3 with AVX2 code: the positions
/// in double four at a time, and for one-channel images other than float64 the gathers and blends eight
/// at a time); pixels whose neighbours are not all inside are redone by rotate_pixel() (none when the
/// position pass found them all inside). Needs the input to have < 2^31 elements.
/// The real interval (lo, hi) of i where `lo_v < f0 + i * df < hi_v`; empty when lo >= hi.
inline void linear_interval(double f0, double df, double lo_v, double hi_v, double& lo, double& hi) {
  constexpr double kBig = 1e18;
  if (df == 0.0) {
    const bool in = f0 > lo_v && f0 < hi_v;
    lo = in ? -kBig : kBig;
    hi = in ? kBig : -kBig;
    return;
  }
  const double a = (lo_v - f0) / df, b = (hi_v - f0) / df;
  lo = std::max(std::min(a, b), -kBig);
  hi = std::min(std::max(a, b), kBig);
}

/// Of the n pixels of a span starting at column offset `ax` of row `yy`, [0, na) and [nb, n) sample
/// positions whose four neighbours are all outside the input (by a margin in both position and index,
/// so rounding cannot misplace a pixel): their value is `cval` without any arithmetic.
inline void outside_ends(const RotGeom& g, double ax, double yy, std::ptrdiff_t H, std::ptrdiff_t Wd,
                         std::ptrdiff_t n, std::ptrdiff_t& na, std::ptrdiff_t& nb) {
  constexpr double kEps = 1e-3;
  double rlo, rhi, clo, chi;
  linear_interval(g.s * ax + g.c * yy + g.cr, g.s, -1.0 - kEps, double(H) + kEps, rlo, rhi);
  linear_interval(g.c * ax - g.s * yy + g.cc, g.c, -1.0 - kEps, double(Wd) + kEps, clo, chi);
  const double lo = std::max(rlo, clo), hi = std::min(rhi, chi);
  if (!(lo < hi)) {
    na = nb = n;
    return;
  }
  const double dn = double(n);
  na = static_cast<std::ptrdiff_t>(std::clamp(std::ceil(lo) - 1.0, 0.0, dn));
  nb = static_cast<std::ptrdiff_t>(std::clamp(std::floor(hi) + 2.0, double(na), dn));
}

template <detail::CpuLevel kLevel, class T>
SEGEN_ALWAYS_INLINE void rotate_span_bilinear_in(const RotateJob<T>& J, double yy, std::ptrdiff_t x0, std::ptrdiff_t i0,
                                             std::ptrdiff_t n, T* __restrict d);

#if SEGEN_HAVE_X86_INTRIN
// Called from the x86-64-v3 copies (not inlined: a target attribute differs from the caller's).
#define SEGEN_ROT_AVX2 __attribute__((target("avx2,fma")))
#define SEGEN_ROT_AVX2_INLINE inline __attribute__((target("avx2,fma"), always_inline))

/// The position pass of rotate_span_bilinear_in() for x86-64-v3, four pixels at a time, for i in [0, m)
/// (m a multiple of 8, <= kTileW; the pixels past n have clamped, safe offsets too): the portable loop's
/// arithmetic, operation for operation (no fused multiply-add). Returns whether pixels 0 .. n - 1 all have
/// their four neighbours inside.
template <class W>
SEGEN_ROT_AVX2 bool rotate_positions_avx2(const RotGeom& g, double ax, double ry, double cy, double hm1, double wm1,
                                          double sd, double cd, std::ptrdiff_t i0, int n, int m,
                                          std::int32_t* __restrict off, std::int32_t* __restrict dx,
                                          std::int32_t* __restrict dy, std::int32_t* __restrict inside,
                                          W* __restrict fr, W* __restrict fc) {
  const __m256d vax = _mm256_set1_pd(ax), vc = _mm256_set1_pd(g.c), vs = _mm256_set1_pd(g.s);
  const __m256d vry = _mm256_set1_pd(ry), vcy = _mm256_set1_pd(cy), vcc = _mm256_set1_pd(g.cc);
  const __m256d vcr = _mm256_set1_pd(g.cr), vh = _mm256_set1_pd(hm1), vw = _mm256_set1_pd(wm1);
  const __m256d vsd = _mm256_set1_pd(sd), vcd = _mm256_set1_pd(cd), zero = _mm256_setzero_pd();
  const __m256d one = _mm256_set1_pd(1.0), lanes = _mm256_setr_pd(0.0, 1.0, 2.0, 3.0);
  int all_in = 1;
  for (int i = 0; i < m; i += 4) {
    const __m256d xx = _mm256_add_pd(vax, _mm256_add_pd(_mm256_set1_pd(double(i0 + i)), lanes));
    const __m256d sc = _mm256_add_pd(_mm256_sub_pd(_mm256_mul_pd(vc, xx), vry), vcc);
    const __m256d sr = _mm256_add_pd(_mm256_add_pd(_mm256_mul_pd(vs, xx), vcy), vcr);
    const __m256d in = _mm256_and_pd(
        _mm256_and_pd(_mm256_cmp_pd(sr, zero, _CMP_GE_OQ), _mm256_cmp_pd(sr, vh, _CMP_LE_OQ)),
        _mm256_and_pd(_mm256_cmp_pd(sc, zero, _CMP_GE_OQ), _mm256_cmp_pd(sc, vw, _CMP_LE_OQ)));
    const __m256d sr_c = _mm256_min_pd(_mm256_max_pd(sr, zero), vh);
    const __m256d sc_c = _mm256_min_pd(_mm256_max_pd(sc, zero), vw);
    const __m256d r0 = _mm256_floor_pd(sr_c), c0 = _mm256_floor_pd(sc_c);
    const __m256d dr = _mm256_sub_pd(sr_c, r0), dc = _mm256_sub_pd(sc_c, c0);
    const __m256d o = _mm256_add_pd(_mm256_mul_pd(r0, vsd), _mm256_mul_pd(c0, vcd));
    _mm_store_si128(reinterpret_cast<__m128i*>(off + i), _mm256_cvttpd_epi32(o));
    _mm_store_si128(reinterpret_cast<__m128i*>(dy + i),
                    _mm256_cvttpd_epi32(_mm256_and_pd(_mm256_cmp_pd(dr, zero, _CMP_GT_OQ), vsd)));
    _mm_store_si128(reinterpret_cast<__m128i*>(dx + i),
                    _mm256_cvttpd_epi32(_mm256_and_pd(_mm256_cmp_pd(dc, zero, _CMP_GT_OQ), vcd)));
    _mm_store_si128(reinterpret_cast<__m128i*>(inside + i), _mm256_cvttpd_epi32(_mm256_and_pd(in, one)));
    const int valid = n - i >= 4 ? 0xF : (n - i <= 0 ? 0 : (1 << (n - i)) - 1);
    all_in &= (_mm256_movemask_pd(in) & valid) == valid;
    if constexpr (std::is_same_v<W, float>) {
      _mm_store_ps(fr + i, _mm256_cvtpd_ps(dr));
      _mm_store_ps(fc + i, _mm256_cvtpd_ps(dc));
    } else {
      _mm256_store_pd(fr + i, dr);
      _mm256_store_pd(fc + i, dc);
    }
  }
  return all_in != 0;
}

/// Eight samples of a one-channel image at element offsets `idx`, as floats. Integer samples are read
/// by 32-bit gathers, which read up to 3 bytes past a sample: `safe` says that no offset is that close to
/// the end of the image, else the samples are read one by one.
template <class T>
SEGEN_ROT_AVX2_INLINE __m256 rotate_samples_avx2(const T* src, __m256i idx, bool safe) {
  if constexpr (std::is_same_v<T, float>) {
    return _mm256_i32gather_ps(src, idx, 4);
  } else {
    constexpr int kMask = std::is_same_v<T, u8> ? 0xFF : 0xFFFF;
    __m256i v;
    if (safe) {
      v = _mm256_i32gather_epi32(reinterpret_cast<const int*>(src), idx, int(sizeof(T)));
    } else {
      alignas(32) std::int32_t k[8];
      _mm256_store_si256(reinterpret_cast<__m256i*>(k), idx);
      for (int j = 0; j < 8; ++j) k[j] = src[k[j]];
      v = _mm256_load_si256(reinterpret_cast<const __m256i*>(k));
    }
    return _mm256_cvtepi32_ps(_mm256_and_si256(v, _mm256_set1_epi32(kMask)));
  }
}

/// Samples idx[k] (left) and idx[k] + 1 (right) of eight positions, from one gathered element each: a
/// 64-bit pair for float, a 32-bit word for uint8 / uint16. Reads up to sample idx[k] + 1 (float, uint16)
/// or + 3 (uint8).
template <class T>
SEGEN_ROT_AVX2_INLINE void rotate_pairs_avx2(const T* src, __m256i idx, __m256& left, __m256& right) {
  if constexpr (std::is_same_v<T, float>) {
    // Positions 0, 1, 4, 5 into one gather and 2, 3, 6, 7 into the other, so that the two in-lane shuffles
    // give the lefts and the rights in order.
    const __m256i q = _mm256_permutevar8x32_epi32(idx, _mm256_setr_epi32(0, 1, 4, 5, 2, 3, 6, 7));
    const double* base = reinterpret_cast<const double*>(src);
    const __m256 a = _mm256_castpd_ps(_mm256_i32gather_pd(base, _mm256_castsi256_si128(q), 4));
    const __m256 b = _mm256_castpd_ps(_mm256_i32gather_pd(base, _mm256_extracti128_si256(q, 1), 4));
    left = _mm256_shuffle_ps(a, b, _MM_SHUFFLE(2, 0, 2, 0));
    right = _mm256_shuffle_ps(a, b, _MM_SHUFFLE(3, 1, 3, 1));
  } else {
    constexpr int kBits = 8 * int(sizeof(T));
    const __m256i mask = _mm256_set1_epi32(std::is_same_v<T, u8> ? 0xFF : 0xFFFF);
    const __m256i v = _mm256_i32gather_epi32(reinterpret_cast<const int*>(src), idx, int(sizeof(T)));
    left = _mm256_cvtepi32_ps(_mm256_and_si256(v, mask));
    right = _mm256_cvtepi32_ps(_mm256_and_si256(_mm256_srli_epi32(v, kBits), mask));
  }
}

/// The gathers and blends of one-channel spans (uint8, uint16, float32) for x86-64-v3, eight pixels at a
/// time: the portable loop's products and sums, unfused, and its rounding (to_pixel); writes d[0 .. n).
/// `last` is the offset of the image's last sample.
template <class T>
SEGEN_ROT_AVX2 void rotate_blend_avx2(const T* src, std::ptrdiff_t last, const std::int32_t* __restrict off,
                                      const std::int32_t* __restrict dx, const std::int32_t* __restrict dy,
                                      const float* __restrict fr, const float* __restrict fc, int n,
                                      T* __restrict d) {
  const __m256 one = _mm256_set1_ps(1.0f);
  // the highest offset a 32-bit gather may start from
  const __m256i lim = _mm256_set1_epi32(static_cast<std::int32_t>(last - (4 / std::ptrdiff_t(sizeof(T)) - 1)));
  // the highest offset rotate_pairs_avx2 may start from: it reads 2 samples (float, uint16) or 4 (uint8)
  const __m256i pair_lim = _mm256_set1_epi32(static_cast<std::int32_t>(last - (sizeof(T) == 1 ? 3 : 1)));
  for (int i = 0; i < n; i += 8) {
    const __m256i o = _mm256_load_si256(reinterpret_cast<const __m256i*>(off + i));
    const __m256i a = _mm256_load_si256(reinterpret_cast<const __m256i*>(dx + i));
    const __m256i b = _mm256_load_si256(reinterpret_cast<const __m256i*>(dy + i));
    const __m256i ob = _mm256_add_epi32(o, b), oab = _mm256_add_epi32(ob, a);
    __m256 tl, tr, bl, br;
    if (_mm256_movemask_epi8(_mm256_cmpgt_epi32(ob, pair_lim)) == 0) {  // ob is the highest pair start
      // Each left sample with its right neighbour in one gathered element: half the gathered elements (the
      // gathers bound this loop). The right sample is the neighbour only where dx says so.
      const __m256 use_right = _mm256_castsi256_ps(_mm256_cmpgt_epi32(a, _mm256_setzero_si256()));
      __m256 l, r;
      rotate_pairs_avx2<T>(src, o, l, r);
      tl = l;
      tr = _mm256_blendv_ps(l, r, use_right);
      rotate_pairs_avx2<T>(src, ob, l, r);
      bl = l;
      br = _mm256_blendv_ps(l, r, use_right);
    } else {
      const bool safe = _mm256_movemask_epi8(_mm256_cmpgt_epi32(oab, lim)) == 0;  // oab is the highest offset
      tl = rotate_samples_avx2<T>(src, o, safe);
      tr = rotate_samples_avx2<T>(src, _mm256_add_epi32(o, a), safe);
      bl = rotate_samples_avx2<T>(src, ob, safe);
      br = rotate_samples_avx2<T>(src, oab, safe);
    }
    const __m256 vr = _mm256_load_ps(fr + i), vc = _mm256_load_ps(fc + i);
    const __m256 wc = _mm256_sub_ps(one, vc);
    const __m256 top = _mm256_add_ps(_mm256_mul_ps(wc, tl), _mm256_mul_ps(vc, tr));
    const __m256 bottom = _mm256_add_ps(_mm256_mul_ps(wc, bl), _mm256_mul_ps(vc, br));
    const __m256 v = _mm256_add_ps(_mm256_mul_ps(_mm256_sub_ps(one, vr), top), _mm256_mul_ps(vr, bottom));
    alignas(32) T t[8];
    T* dst = n - i >= 8 ? d + i : t;
    if constexpr (std::is_same_v<T, float>) {
      _mm256_storeu_ps(dst, v);
    } else {  // to_pixel(): + 0.5, clamp, truncate
      const __m256 hi = _mm256_set1_ps(float(std::numeric_limits<T>::max()));
      const __m256 r = _mm256_min_ps(_mm256_max_ps(_mm256_add_ps(v, _mm256_set1_ps(0.5f)), _mm256_setzero_ps()), hi);
      const __m256i q = _mm256_cvttps_epi32(r);
      const __m128i w16 = _mm_packus_epi32(_mm256_castsi256_si128(q), _mm256_extracti128_si256(q, 1));
      if constexpr (std::is_same_v<T, u16>)
        _mm_storeu_si128(reinterpret_cast<__m128i*>(dst), w16);
      else
        _mm_storel_epi64(reinterpret_cast<__m128i*>(dst), _mm_packus_epi16(w16, w16));
    }
    if (dst == t)
      for (int k = 0; k < n - i; ++k) d[i + k] = t[k];
  }
}
#undef SEGEN_ROT_AVX2
#undef SEGEN_ROT_AVX2_INLINE
#endif

/// Bilinear output pixels x0 .. x0 + n - 1 of the row at yy: the ends that sample only outside the input
/// are filled with cval, the rest goes to rotate_span_bilinear_in().
template <detail::CpuLevel kLevel, class T>
SEGEN_ALWAYS_INLINE void rotate_span_bilinear(const RotateJob<T>& J, double yy, std::ptrdiff_t x0, std::ptrdiff_t n,
                                          T* __restrict d) {
  using W = work_t<T>;
  std::ptrdiff_t na = 0, nb = n;
  outside_ends(J.g, double(x0) + J.g.offc - J.g.cc, yy, J.src.height, J.src.width, n, na, nb);
  const std::ptrdiff_t C = J.src.channels;
  const T fill = to_pixel<T, W>(J.cval);
  std::fill(d + x0 * C, d + (x0 + na) * C, fill);
  std::fill(d + (x0 + nb) * C, d + (x0 + n) * C, fill);
  if (nb > na) rotate_span_bilinear_in<kLevel, T>(J, yy, x0, na, nb - na, d);
}

template <detail::CpuLevel kLevel, class T>
SEGEN_ALWAYS_INLINE void rotate_span_bilinear_in(const RotateJob<T>& J, double yy, std::ptrdiff_t x0, std::ptrdiff_t i0,
                                             std::ptrdiff_t n, T* __restrict d) {
  using W = work_t<T>;
  const RotGeom& g = J.g;
  const std::ptrdiff_t C = J.src.channels;
  const double hm1 = double(J.src.height - 1), wm1 = double(J.src.width - 1);
  const std::int32_t stride = static_cast<std::int32_t>(J.src.stride), ci = static_cast<std::int32_t>(C);
  alignas(64) std::int32_t off[kTileW], dx[kTileW], dy[kTileW], inside[kTileW];
  alignas(64) W fr[kTileW], fc[kTileW];
  // Positions from the span's first column x0 as x0 + offc - cc + i, whatever i0: the same rounding as
  // without the outside ends, so that the ends change no bit of the other pixels.
  const double ax = double(x0) + g.offc - g.cc, ry = g.s * yy, cy = g.c * yy;
  d += (x0 + i0) * C;
  const double sd = double(stride), cd = double(ci);
  bool all_in = false;
  constexpr bool kAvx2 = SEGEN_HAVE_X86_INTRIN && kLevel >= detail::CpuLevel::V3;
  if constexpr (kAvx2) {
#if SEGEN_HAVE_X86_INTRIN
    const int m = static_cast<int>((n + 7) & ~std::ptrdiff_t(7));
    all_in = rotate_positions_avx2<W>(g, ax, ry, cy, hm1, wm1, sd, cd, i0, static_cast<int>(n), m, off, dx, dy,
                                      inside, fr, fc);
#endif
  } else {
    // int counter, ternary clamps (fmin/fmax are calls): keeps the loop vectorisable.
    for (int i = 0; i < static_cast<int>(n); ++i) {
      const double xx = ax + double(i0 + i);
      const double sc = g.c * xx - ry + g.cc, sr = g.s * xx + cy + g.cr;
      const double in = (sr >= 0.0 ? 1.0 : 0.0) * (sr <= hm1 ? 1.0 : 0.0) * (sc >= 0.0 ? 1.0 : 0.0) *
                        (sc <= wm1 ? 1.0 : 0.0);
      const double sr_c = sr < 0.0 ? 0.0 : (sr > hm1 ? hm1 : sr);  // clamped: safe addresses for all
      const double sc_c = sc < 0.0 ? 0.0 : (sc > wm1 ? wm1 : sc);
      const double r0 = std::floor(sr_c), c0 = std::floor(sc_c);
      const double dr = sr_c - r0, dc = sc_c - c0;
      off[i] = static_cast<std::int32_t>(r0 * sd + c0 * cd);
      dy[i] = static_cast<std::int32_t>(dr > 0.0 ? sd : 0.0);  // the upper neighbour is ceil(), as in skimage
      dx[i] = static_cast<std::int32_t>(dc > 0.0 ? cd : 0.0);
      inside[i] = static_cast<std::int32_t>(in);
      fr[i] = W(dr);
      fc[i] = W(dc);
    }
  }
  const T* __restrict src = J.src.data;
  constexpr bool kAvx2Blend = kAvx2 && !std::is_same_v<T, double>;
  if (kAvx2Blend && C == 1) {
#if SEGEN_HAVE_X86_INTRIN
    const std::ptrdiff_t last = (J.src.height - 1) * J.src.stride + J.src.width - 1;
    if constexpr (kAvx2Blend) rotate_blend_avx2<T>(src, last, off, dx, dy, fr, fc, static_cast<int>(n), d);
#endif
  } else if (C == 1) {
    alignas(64) W tl[kTileW], tr[kTileW], bl[kTileW], br[kTileW];
    for (std::ptrdiff_t i = 0; i < n; ++i) {
      const T* p = src + off[i];
      tl[i] = W(p[0]);
      tr[i] = W(p[dx[i]]);
      bl[i] = W(p[dy[i]]);
      br[i] = W(p[dy[i] + dx[i]]);
    }
    for (std::ptrdiff_t i = 0; i < n; ++i) {
      const W dr = fr[i], dc = fc[i];
      const W top = (W(1) - dc) * tl[i] + dc * tr[i];
      const W bottom = (W(1) - dc) * bl[i] + dc * br[i];
      d[i] = to_pixel<T, W>((W(1) - dr) * top + dr * bottom);
    }
  } else {
    for (std::ptrdiff_t i = 0; i < n; ++i) {
      const T* p = src + off[i];
      const std::int32_t a = dx[i], b = dy[i];
      const W dr = fr[i], dc = fc[i];
      T* px = d + i * C;
      for (std::ptrdiff_t c = 0; c < C; ++c) {
        const W top = (W(1) - dc) * W(p[c]) + dc * W(p[a + c]);
        const W bottom = (W(1) - dc) * W(p[b + c]) + dc * W(p[a + b + c]);
        px[c] = to_pixel<T, W>((W(1) - dr) * top + dr * bottom);
      }
    }
  }
  if (all_in) return;  // no pixel to redo
  for (std::ptrdiff_t i = 0; i < n; ++i) {
    if (inside[i]) continue;
    const double xx = ax + double(i0 + i);
    rotate_pixel<T>(J, g.s * xx + cy + g.cr, g.c * xx - ry + g.cc, d + i * C);
  }
}

template <detail::CpuLevel kLevel, class T>
SEGEN_ALWAYS_INLINE void rotate_rows_impl(const RotateJob<T>& J, std::ptrdiff_t y0, std::ptrdiff_t y1) {
  const RotGeom& g = J.g;
  const std::ptrdiff_t C = J.src.channels, OW = J.out.width;
  const bool spans = !J.nearest && J.src.height * J.src.stride < (std::ptrdiff_t(1) << 31);
  const std::ptrdiff_t TW = rotate_tile_width(C * std::ptrdiff_t(sizeof(T)));
  for (std::ptrdiff_t ty = y0; ty < y1; ty += kTileH)
    for (std::ptrdiff_t tx = 0; tx < OW; tx += TW)
      for (std::ptrdiff_t y = ty; y < std::min(y1, ty + kTileH); ++y) {
        T* __restrict d = J.out.row(y);
        const double yy = double(y) + g.offr - g.cr;
        const std::ptrdiff_t n = std::min(OW - tx, TW);
        if (spans) {
          rotate_span_bilinear<kLevel, T>(J, yy, tx, n, d);
          continue;
        }
        for (std::ptrdiff_t x = tx; x < tx + n; ++x) {
          const double xx = double(x) + g.offc - g.cc;
          rotate_pixel<T>(J, g.s * xx + g.c * yy + g.cr, g.c * xx - g.s * yy + g.cc, d + x * C);
        }
      }
}

}  // namespace

namespace detail {
SEGEN_JOB_ROWS(rotate_rows, RotateJob)
}  // namespace detail

std::array<std::ptrdiff_t, 2> rotated_shape(std::ptrdiff_t height, std::ptrdiff_t width, double angle, bool resize) {
  const RotGeom g = rotation_geometry(height, width, angle, resize, std::nullopt);
  return {g.out_h, g.out_w};
}

template <class T>
void rotate_into(ImageView<const T> src, ImageView<T> out, double angle, const RotateOptions& opt) {
  detail::require_nonempty(src, "image");
  const RotGeom g = rotation_geometry(src.height, src.width, angle, opt.resize, opt.center);
  if (out.height != g.out_h || out.width != g.out_w || out.channels != src.channels)
    throw InvalidArgument("`out` must have shape " + detail::shape_str(g.out_h, g.out_w, src.channels) + "; got " +
                          detail::shape_str(out.height, out.width, out.channels));
  detail::require_no_overlap(src, out, "image", "out");
  if (opt.method != Interp::Nearest && opt.method != Interp::Bilinear)
    throw InvalidArgument("`method` must be Nearest or Bilinear for rotate");
  if (!std::is_floating_point_v<T> && !std::isfinite(opt.cval))
    throw InvalidArgument("`cval` must be finite for an integer image; got " + detail::format_number(opt.cval));
  if (std::fmod(angle, 360.0) == 0.0 && g.out_h == src.height && g.out_w == src.width) {
    // a whole number of turns, about any centre, is the identity: an exact copy (a bilinear blend that
    // samples pixel centres with weights 1 and 0 made NaN of an infinite sample, as 0 * inf enters it)
    parallel_for(out.height, [&](std::ptrdiff_t y0, std::ptrdiff_t y1) {
      for (std::ptrdiff_t y = y0; y < y1; ++y) std::copy(src.row(y), src.row(y) + src.row_size(), out.row(y));
    });
    return;
  }
  RotateJob<T> J{src, out, g, static_cast<work_t<T>>(opt.cval), opt.method == Interp::Nearest};
  if constexpr (!std::is_floating_point_v<T>) {  // saturate first, so blends cannot overflow the type
    const double hi = double(std::numeric_limits<T>::max());
    J.cval = static_cast<work_t<T>>(std::min(std::max(opt.cval, 0.0), hi));
  }
  parallel_for(out.height, [&](std::ptrdiff_t y0, std::ptrdiff_t y1) { detail::rotate_rows(J, y0, y1); },
               std::max<std::ptrdiff_t>(32, 4096 / out.width));
}

template <class T>
Image<T> rotate(ImageView<const T> src, double angle, const RotateOptions& opt) {
  detail::require_nonempty(src, "image");
  const auto shape = rotated_shape(src.height, src.width, angle, opt.resize);
  Image<T> out(shape[0], shape[1], src.channels);
  rotate_into<T>(src, out.view(), angle, opt);
  return out;
}

// ================================================================================================
// flip
// ================================================================================================

namespace {

/// d[x, k] = s[w - 1 - x, k] for x < w, C channels (a compile-time constant, so that the loop vectorises
/// into lane reversals; 0: `channels` at run time).
template <int C, class T>
SEGEN_ALWAYS_INLINE void reverse_pixels(const T* __restrict s, T* __restrict d, std::ptrdiff_t w,
                                        std::ptrdiff_t channels) {
  const std::ptrdiff_t c = C > 0 ? C : channels;
  for (std::ptrdiff_t x = 0; x < w; ++x)
    for (std::ptrdiff_t k = 0; k < c; ++k) d[x * c + k] = s[(w - 1 - x) * c + k];
}

#if SEGEN_HAVE_X86_INTRIN
/// The column flip of a row of P-byte pixels (P = 3: RGB uint8, 6: RGB uint16) by byte shuffles: each step
/// loads the 16 source bytes that end with the n = 12 / P pixels it reverses, shuffles those pixels into
/// the reverse order and stores 16 bytes, whose last 4 the next step (or the caller's scalar tail)
/// overwrites. Returns the number of output pixels written; the caller does the rest. (Per pixel, RGB uint8
/// took 1.9 ms for a 2048 x 1536 photo, OpenCV 0.3.) Called once a row from the x86-64-v3 / v4 copies.
template <int P>
__attribute__((target("ssse3"))) std::ptrdiff_t reverse_pixels_ssse3(
    const unsigned char* __restrict s, unsigned char* __restrict d, std::ptrdiff_t w) {
  static_assert(P == 3 || P == 6);
  constexpr int n = 12 / P;
  alignas(16) static constexpr auto kMask = [] {
    struct M { signed char b[16]; } m{};
    for (int j = 0; j < 16; ++j) m.b[j] = j < 12 ? static_cast<signed char>(4 + (n - 1 - j / P) * P + j % P) : -1;
    return m;
  }();
  const __m128i mask = _mm_load_si128(reinterpret_cast<const __m128i*>(kMask.b));
  std::ptrdiff_t x = 0;
  // Needs (w - n - x) * P >= 4 (the load starts in the row) and (x + n) * P + 4 <= w * P (the store ends in it).
  for (; (w - n - x) * P >= 4 && (x + n) * P + 4 <= w * P; x += n) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s + (w - n - x) * P - 4));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(d + x * P), _mm_shuffle_epi8(v, mask));
  }
  return x;
}
#endif

template <class T>
struct FlipJob {
  ImageView<const T> src;
  ImageView<T> out;
  bool flip_rows, flip_cols;
};

/// Output rows [y0, y1) of a flip. A column flip copied each pixel with std::copy of a run-time length, a
/// call per pixel (a 2048 x 1536 RGB uint8 photo: 13.6 ms, OpenCV 0.7).
template <detail::CpuLevel kLevel, class T>
SEGEN_ALWAYS_INLINE void flip_rows_impl(const FlipJob<T>& J, std::ptrdiff_t y0, std::ptrdiff_t y1) {
  const std::ptrdiff_t h = J.src.height, w = J.src.width, c = J.src.channels;
  for (std::ptrdiff_t y = y0; y < y1; ++y) {
    const T* s = J.src.row(J.flip_rows ? h - 1 - y : y);
    T* d = J.out.row(y);
    if (!J.flip_cols) std::copy(s, s + w * c, d);
    else if (c == 1) reverse_pixels<1>(s, d, w, c);
    else if (c == 2) reverse_pixels<2>(s, d, w, c);
    else if (c == 3) {
      std::ptrdiff_t done = 0;
#if SEGEN_HAVE_X86_INTRIN
      if constexpr (kLevel >= detail::CpuLevel::V3 && sizeof(T) <= 2)
        done = reverse_pixels_ssse3<3 * sizeof(T)>(reinterpret_cast<const unsigned char*>(s),
                                                   reinterpret_cast<unsigned char*>(d), w);
#endif
      reverse_pixels<3>(s, d + done * 3, w - done, c);  // the pixels left: the first w - done of the source
    }
    else if (c == 4) reverse_pixels<4>(s, d, w, c);
    else reverse_pixels<0>(s, d, w, c);
  }
}

}  // namespace

namespace detail {
SEGEN_JOB_ROWS(flip_rows, FlipJob)
#undef SEGEN_JOB_ROWS
#undef SEGEN_JOB_ROWS_T
}  // namespace detail

template <class T>
void flip_into(ImageView<const T> src, ImageView<T> out, int axis) {
  detail::require_nonempty(src, "image");
  detail::require_same_shape(src, out, "image", "out");
  detail::require_no_overlap(src, out, "image", "out");
  if (axis != 0 && axis != 1 && axis != -1)
    throw InvalidArgument("`axis` must be 0 (rows), 1 (columns) or -1 (both); got " + std::to_string(axis));
  const FlipJob<T> J{src, out, axis != 1, axis != 0};
  parallel_for(src.height, [&](std::ptrdiff_t y0, std::ptrdiff_t y1) { detail::flip_rows(J, y0, y1); }, 64);
}

template <class T>
Image<T> flip(ImageView<const T> src, int axis) {
  Image<T> out(src.height, src.width, src.channels);
  flip_into<T>(src, out.view(), axis);
  return out;
}

#define SEGEN_INSTANTIATE(T)                                                                               \
  template SEGEN_API void resize_into<T>(ImageView<const T>, ImageView<T>, Interp, bool);                  \
  template SEGEN_API Image<T> resize<T>(ImageView<const T>, std::ptrdiff_t, std::ptrdiff_t, Interp, bool); \
  template SEGEN_API void rotate_into<T>(ImageView<const T>, ImageView<T>, double, const RotateOptions&);  \
  template SEGEN_API Image<T> rotate<T>(ImageView<const T>, double, const RotateOptions&);                 \
  template SEGEN_API void flip_into<T>(ImageView<const T>, ImageView<T>, int);                             \
  template SEGEN_API Image<T> flip<T>(ImageView<const T>, int);
SEGEN_FOR_PIXEL_TYPES(SEGEN_INSTANTIATE)
#undef SEGEN_INSTANTIATE

}  // namespace segen
