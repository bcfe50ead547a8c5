#pragma once
// Private steps of segen::canny (features.cpp): Sobel gradients of a smoothed row, bilinear non-maximum
// suppression with scikit-image's case analysis, the magnitude quantiles and the 8-connected hysteresis;
// AVX2 versions of the non-maximum suppression and of the horizontal pass with the division by the smoothed
// ones.

#include <algorithm>  // std::nth_element, std::min_element
#include <cmath>      // std::sqrt, std::fabs, std::floor
#include <cstddef>    // std::ptrdiff_t
#include <cstdint>    // std::uint8_t
#include <cstring>    // std::memcpy
#include <type_traits>  // std::is_same_v
#include <vector>     // std::vector

#include "detail/features_fir.hpp"

// The AVX2 kernels (nms_row_avx2, gauss_hpass_div_avx2) are compiled in every x86-64 build with GCC or Clang
// (target attributes); features.cpp calls them from its x86-64-v3 and v4 copies.
#include "detail/x86_intrin.hpp"
#define SEGEN_CANNY_HAVE_AVX2 SEGEN_HAVE_X86_INTRIN

namespace segen::detail {

/// Values of the edge map while it is built: candidates of the hysteresis, then edges.
enum : std::uint8_t { kNotEdge = 0, kEdge = 1, kCandidate = 2 };  // kCandidate - 1 == kEdge: see hysteresis_rows

// ---- scipy.ndimage's Gaussian and Sobel, rounding for rounding --------------------------------------
// scipy correlates each line in double and stores the result in the array's type W (float32 or float64);
// a symmetric kernel is summed as x[0] w[0] + (x[-r] + x[r]) w[r] + ... + (x[-1] + x[1]) w[1] (outermost
// pair first), without fused multiply-adds. `wl[j]` is the weight at offset -j (j = 0..r).

#if SEGEN_HAVE_VECTOR_EXT
/// W(x) as a double: rounds to float for W = float, identity for double.
template <class W>
SEGEN_ALWAYS_INLINE vec_t<double> round_to(vec_t<double> v) {
  if constexpr (std::is_same_v<W, double>) {
    return v;
  } else {
    typedef float F4 __attribute__((vector_size(16)));
    return __builtin_convertvector(__builtin_convertvector(v, F4), vec_t<double>);
  }
}

/// Four W values as doubles (exact).
template <class W>
SEGEN_ALWAYS_INLINE vec_t<double> load_w(const W* p) {
  if constexpr (std::is_same_v<W, double>) {
    return vload<double>(p);
  } else {
    typedef float F4 __attribute__((vector_size(16)));
    F4 f;
    std::memcpy(&f, p, sizeof(f));
    return __builtin_convertvector(f, vec_t<double>);
  }
}

/// Four doubles stored as W (rounded to float for W = float).
template <class W>
SEGEN_ALWAYS_INLINE void store_w(W* p, vec_t<double> v) {
  if constexpr (std::is_same_v<W, double>) {
    vstore<double, 32>(p, v);
  } else {
    typedef float F4 __attribute__((vector_size(16)));
    const F4 f = __builtin_convertvector(v, F4);
    std::memcpy(p, &f, sizeof(f));
  }
}

/// The correctly rounded square root of every lane (the compiler makes it one vector square root).
template <class V>
SEGEN_ALWAYS_INLINE V lane_sqrt(V v) {
  constexpr int n = sizeof(V) / sizeof(v[0]);
  for (int l = 0; l < n; ++l) v[l] = std::sqrt(v[l]);
  return v;
}
#endif

/// Vertical pass: out[x] = W(sum over the 2r + 1 rows `rows[0..2r]` centred on rows[r]), stored back as a
/// double (exactly).
template <class W>
SEGEN_ALWAYS_INLINE SEGEN_NO_CONTRACT void gauss_vpass(const double* const* rows, const double* wl, int r, double* out,
                                                std::ptrdiff_t n) {
  const double* c = rows[r];
  std::ptrdiff_t x = 0;
#if SEGEN_HAVE_VECTOR_EXT
  using V = vec_t<double>;
  constexpr int L = Vec<double>::lanes;
  // Four vectors per step: four independent chains of r + 1 dependent additions each.
  for (; x + 4 * L <= n; x += 4 * L) {
    V a[4];
    for (int k = 0; k < 4; ++k) a[k] = vload<double>(c + x + k * L) * wl[0];
    for (int j = r; j >= 1; --j) {
      const double* p = rows[r - j] + x;
      const double* q = rows[r + j] + x;
      const double wj = wl[j];
      for (int k = 0; k < 4; ++k) a[k] += (vload<double>(p + k * L) + vload<double>(q + k * L)) * wj;
    }
    for (int k = 0; k < 4; ++k) vstore<double, 32>(out + x + k * L, round_to<W>(a[k]));
  }
  for (; x + L <= n; x += L) {
    V a0 = vload<double>(c + x) * wl[0];
    for (int j = r; j >= 1; --j) a0 += (vload<double>(rows[r - j] + x) + vload<double>(rows[r + j] + x)) * wl[j];
    vstore<double, 32>(out + x, round_to<W>(a0));
  }
#endif
  for (; x < n; ++x) {
    double acc = c[x] * wl[0];
    for (int j = r; j >= 1; --j) acc += (rows[r - j][x] + rows[r + j][x]) * wl[j];
    out[x] = static_cast<double>(static_cast<W>(acc));
  }
}

/// Horizontal pass over a row extended by r samples on each side (ext[x + r] is sample x).
template <class W>
SEGEN_ALWAYS_INLINE SEGEN_NO_CONTRACT void gauss_hpass(const double* ext, const double* wl, int r, W* out, std::ptrdiff_t n) {
  std::ptrdiff_t x = 0;
#if SEGEN_HAVE_VECTOR_EXT
  using V = vec_t<double>;
  constexpr int L = Vec<double>::lanes;
  for (; x + 4 * L <= n; x += 4 * L) {
    const double* c = ext + r + x;
    V a[4];
    for (int k = 0; k < 4; ++k) a[k] = vload<double>(c + k * L) * wl[0];
    for (int j = r; j >= 1; --j) {
      const double wj = wl[j];
      for (int k = 0; k < 4; ++k) a[k] += (vload<double>(c - j + k * L) + vload<double>(c + j + k * L)) * wj;
    }
    for (int k = 0; k < 4; ++k) store_w(out + x + k * L, a[k]);
  }
#endif
  for (; x < n; ++x) {
    const double* c = ext + r + x;
    double acc = c[0] * wl[0];
    for (int j = r; j >= 1; --j) acc += (c[-j] + c[j]) * wl[j];
    out[x] = static_cast<W>(acc);
  }
}

/// Sobel gradients and squared magnitude of pixel x of row `cur` as skimage.feature.canny computes them
/// with scipy.ndimage.sobel (reflected borders; up / dn are the border-resolved rows above and below):
/// gj: central differences along x, rounded to W, then 2 d(y) + (d(y-1) + d(y+1)) in double;
/// gi: differences along y, then the same along x; m2 = gi * gi + gj * gj in W (sqrt_row takes the root).
template <class W, bool kRoot = false>
SEGEN_ALWAYS_INLINE SEGEN_NO_CONTRACT void sobel_at(const W* up, const W* cur, const W* dn, std::ptrdiff_t l, std::ptrdiff_t x,
                                             std::ptrdiff_t r, W* gi, W* gj, W* m2) {
  auto diff = [](W a, W b) { return static_cast<W>(static_cast<double>(a) - static_cast<double>(b)); };
  const W du = diff(up[r], up[l]), dc = diff(cur[r], cur[l]), dd = diff(dn[r], dn[l]);
  const W vj = static_cast<W>(static_cast<double>(dc) * 2.0 + (static_cast<double>(du) + static_cast<double>(dd)));
  const W el = diff(dn[l], up[l]), ec = diff(dn[x], up[x]), er = diff(dn[r], up[r]);
  const W vi = static_cast<W>(static_cast<double>(ec) * 2.0 + (static_cast<double>(el) + static_cast<double>(er)));
  gi[x] = vi;
  gj[x] = vj;
  const W s = vi * vi;
  const W m = s + vj * vj;
  m2[x] = kRoot ? static_cast<W>(std::sqrt(m)) : m;
}

/// sobel_at for every pixel of a row, four pixels at a time in the interior (the same operations lane by
/// lane, in double and rounded to W where the scalar form rounds). kRoot: `m2` gets the magnitude itself,
/// the square root of the squared one in W (as sqrt_row in features.cpp).
template <class W, bool kRoot = false>
SEGEN_ALWAYS_INLINE SEGEN_NO_CONTRACT void sobel_row(const W* __restrict up, const W* __restrict cur, const W* __restrict dn,
                                              std::ptrdiff_t w, W* __restrict gi, W* __restrict gj,
                                              W* __restrict m2) {
  std::ptrdiff_t x = 1;
#if SEGEN_HAVE_VECTOR_EXT
  using V = vec_t<double>;
  constexpr int L = Vec<double>::lanes;
  for (; x + L <= w - 1; x += L) {
    const V ul = load_w(up + x - 1), uc = load_w(up + x), ur = load_w(up + x + 1);
    const V cl = load_w(cur + x - 1), cr = load_w(cur + x + 1);
    const V dl = load_w(dn + x - 1), dc = load_w(dn + x), dr = load_w(dn + x + 1);
    const V du = round_to<W>(ur - ul), dm = round_to<W>(cr - cl), dd = round_to<W>(dr - dl);
    const V vj = round_to<W>(dm * 2.0 + (du + dd));
    const V el = round_to<W>(dl - ul), ec = round_to<W>(dc - uc), er = round_to<W>(dr - ur);
    const V vi = round_to<W>(ec * 2.0 + (el + er));
    store_w(gi + x, vi);
    store_w(gj + x, vj);
    if constexpr (std::is_same_v<W, double>) {
      const V s = vi * vi;
      V m = s + vj * vj;
      if constexpr (kRoot) m = lane_sqrt(m);
      vstore<double, 32>(m2 + x, m);
    } else {
      typedef float F4 __attribute__((vector_size(16)));
      const F4 fi = __builtin_convertvector(vi, F4), fj = __builtin_convertvector(vj, F4);
      const F4 s = fi * fi;
      F4 m = s + fj * fj;
      if constexpr (kRoot) m = lane_sqrt(m);
      std::memcpy(m2 + x, &m, sizeof(m));
    }
  }
#endif
  for (; x < w - 1; ++x) sobel_at<W, kRoot>(up, cur, dn, x - 1, x, x + 1, gi, gj, m2);
  sobel_at<W, kRoot>(up, cur, dn, 0, 0, w > 1 ? 1 : 0, gi, gj, m2);
  if (w > 1) sobel_at<W, kRoot>(up, cur, dn, w - 2, w - 1, w - 1, gi, gj, m2);
}

/// Whether the interpolated neighbour n2 * w + n1 * (1 - w) is <= m, rounded as scikit-image's Cython code
/// does: `n2 * w` in F, `1.0 - w` and the rest in double (a C double literal), no fused multiply-add.
template <class F>
inline bool interp_le(F n1, F n2, F w, F m) {
  volatile F p2 = n2 * w;  // volatile: keeps the compiler from fusing the products into the sum
  volatile double p1 = static_cast<double>(n1) * (1.0 - static_cast<double>(w));
  return static_cast<double>(p2) + p1 <= static_cast<double>(m);
}

/// Bilinear non-maximum suppression of pixel x of a row (interior pixel: x - 1, x + 1 and the rows above
/// and below exist), with scikit-image's choice of neighbours. m_up / m / m_dn are the magnitude rows
/// y - 1, y, y + 1; gi / gj the gradients at (y, x). Returns true if the pixel is a local maximum.
template <class F>
inline bool nms_keep(const F* m_up, const F* m, const F* m_dn, std::ptrdiff_t x, F gi, F gj) {
  const F mc = m[x];
  const bool up = !(gi <= 0), right = !(gj <= 0);
  const F ai = std::fabs(gi), aj = std::fabs(gj);
  F w, n11, n12, n21, n22;
  if (up == right) {  // both gradients positive or both non-positive
    if (ai > aj) {
      w = aj / ai;
      n11 = m_dn[x], n12 = m_dn[x + 1], n21 = m_up[x], n22 = m_up[x - 1];
    } else {
      w = ai / aj;
      n11 = m[x + 1], n12 = m_dn[x + 1], n21 = m[x - 1], n22 = m_up[x - 1];
    }
  } else {
    if (ai < aj) {
      w = ai / aj;
      n11 = m[x + 1], n12 = m_up[x + 1], n21 = m[x - 1], n22 = m_dn[x - 1];
    } else {
      w = aj / ai;
      n11 = m_up[x], n12 = m_up[x + 1], n21 = m_dn[x], n22 = m_dn[x - 1];
    }
  }
  return interp_le(n11, n12, w, mc) && interp_le(n21, n22, w, mc);
}

/// Scalar non-maximum suppression of pixels [x0, x1) of a row (see nms_row in features.cpp).
template <class F>
inline void nms_span(const F* m_up, const F* m, const F* m_dn, const F* gi, const F* gj, const std::uint8_t* ok,
                     std::ptrdiff_t x0, std::ptrdiff_t x1, F low, F high, std::uint8_t* cls, std::ptrdiff_t offset,
                     std::vector<std::ptrdiff_t>& strong) {
  for (std::ptrdiff_t x = x0; x < x1; ++x) {
    std::uint8_t c = kNotEdge;
    if (m[x] >= low && (ok == nullptr || ok[x]) && nms_keep<F>(m_up, m, m_dn, x, gi[x], gj[x])) {
      c = kCandidate;
      if (m[x] >= high) strong.push_back(offset + x);
    }
    cls[x] = c;
  }
}

#if SEGEN_CANNY_HAVE_AVX2
/// Non-maximum suppression of the float64 pixels [1, x_end) of a row, four at a time, as nms_span (same
/// arguments) decides them: all four neighbour cases are computed and blended per lane, the masks tested
/// with movemask. Returns the first pixel it left to the caller (a multiple of 4 plus 1, <= w - 1).
/// `scratch` (room for w + 8 offsets) collects the row's strong pixels before they are appended to `strong`.
/// fp-contract is off: the interpolation rounds product by product, as interp_le.
__attribute__((target("avx2"), optimize("fp-contract=off"))) inline std::ptrdiff_t nms_row_avx2(
    const double* m_up, const double* m, const double* m_dn, const double* gi, const double* gj,
    const std::uint8_t* ok, std::ptrdiff_t w, double low, double high, std::uint8_t* cls, std::ptrdiff_t offset,
    std::vector<std::ptrdiff_t>& strong, std::ptrdiff_t* scratch) {
  const __m256d vlow = _mm256_set1_pd(low), vhigh = _mm256_set1_pd(high), zero = _mm256_setzero_pd();
  const __m256d one = _mm256_set1_pd(1.0), sign = _mm256_set1_pd(-0.0);
  // kCandidate in the bytes of the set bits of a 4-bit mask.
  static constexpr std::uint32_t kBytes[16] = {
      0x00000000, 0x00000002, 0x00000200, 0x00000202, 0x00020000, 0x00020002, 0x00020200, 0x00020202,
      0x02000000, 0x02000002, 0x02000200, 0x02000202, 0x02020000, 0x02020002, 0x02020200, 0x02020202};
  static_assert(kCandidate == 2, "kBytes");
  auto candidates = [&](std::ptrdiff_t x, __m256d& mc) {
    mc = _mm256_loadu_pd(m + x);
    __m256d c = _mm256_cmp_pd(mc, vlow, _CMP_GE_OQ);
    if (ok) {
      std::uint32_t o;
      std::memcpy(&o, ok + x, 4);
      const __m256i e = _mm256_cvtepu8_epi64(_mm_cvtsi32_si128(static_cast<int>(o)));
      c = _mm256_and_pd(c, _mm256_castsi256_pd(_mm256_cmpgt_epi64(e, _mm256_setzero_si256())));
    }
    return c;
  };
  std::ptrdiff_t* buf = nullptr;
  std::size_t n = 0;
  auto suppress = [&](std::ptrdiff_t x, __m256d mc, __m256d cand) {
    const __m256d vi = _mm256_loadu_pd(gi + x), vj = _mm256_loadu_pd(gj + x);
    const __m256d up = _mm256_cmp_pd(vi, zero, _CMP_NLE_UQ), right = _mm256_cmp_pd(vj, zero, _CMP_NLE_UQ);
    const __m256d diff = _mm256_xor_pd(up, right);  // !cond1 of the reference
    const __m256d ai = _mm256_andnot_pd(sign, vi), aj = _mm256_andnot_pd(sign, vj);
    // i-major cases (same & ai > aj, or !same & ai >= aj) use w = aj / ai, the others ai / aj.
    const __m256d imajor =
        _mm256_blendv_pd(_mm256_cmp_pd(ai, aj, _CMP_GT_OQ), _mm256_cmp_pd(ai, aj, _CMP_NLT_UQ), diff);
    const __m256d wv = _mm256_div_pd(_mm256_blendv_pd(ai, aj, imajor), _mm256_blendv_pd(aj, ai, imajor));
    const __m256d u0 = _mm256_loadu_pd(m_up + x), d0 = _mm256_loadu_pd(m_dn + x);
    const __m256d n12 = _mm256_blendv_pd(_mm256_loadu_pd(m_dn + x + 1), _mm256_loadu_pd(m_up + x + 1), diff);
    const __m256d n22 = _mm256_blendv_pd(_mm256_loadu_pd(m_up + x - 1), _mm256_loadu_pd(m_dn + x - 1), diff);
    const __m256d n11 = _mm256_blendv_pd(_mm256_loadu_pd(m + x + 1), _mm256_blendv_pd(d0, u0, diff), imajor);
    const __m256d n21 = _mm256_blendv_pd(_mm256_loadu_pd(m + x - 1), _mm256_blendv_pd(u0, d0, diff), imajor);
    const __m256d one_minus = _mm256_sub_pd(one, wv);
    const __m256d p1 = _mm256_add_pd(_mm256_mul_pd(n12, wv), _mm256_mul_pd(n11, one_minus));
    const __m256d p2 = _mm256_add_pd(_mm256_mul_pd(n22, wv), _mm256_mul_pd(n21, one_minus));
    const __m256d keep =
        _mm256_and_pd(_mm256_and_pd(_mm256_cmp_pd(p1, mc, _CMP_LE_OQ), _mm256_cmp_pd(p2, mc, _CMP_LE_OQ)), cand);
    const unsigned kb = static_cast<unsigned>(_mm256_movemask_pd(keep));
    std::memcpy(cls + x, &kBytes[kb], 4);
    const unsigned sb = kb & static_cast<unsigned>(_mm256_movemask_pd(_mm256_cmp_pd(mc, vhigh, _CMP_GE_OQ)));
    // Branch-free: every lane is written, the count advances by its bit.
    const std::ptrdiff_t i = offset + x;
    buf[n] = i, n += sb & 1;
    buf[n] = i + 1, n += (sb >> 1) & 1;
    buf[n] = i + 2, n += (sb >> 2) & 1;
    buf[n] = i + 3, n += sb >> 3;
  };
  std::ptrdiff_t x = 1;
  buf = scratch;
  // Two vectors per test: candidates come in runs along edges, and one unpredictable branch per 8 pixels
  // costs less than one per 4.
  for (; x + 8 <= w - 1; x += 8) {
    __m256d m0, m1;
    const __m256d c0 = candidates(x, m0), c1 = candidates(x + 4, m1);
    const int any = _mm256_movemask_pd(c0) | (_mm256_movemask_pd(c1) << 4);
    if (any == 0) {
      std::memset(cls + x, kNotEdge, 8);
      continue;
    }
    if (any & 0x0f) suppress(x, m0, c0);
    else std::memset(cls + x, kNotEdge, 4);
    if (any & 0xf0) suppress(x + 4, m1, c1);
    else std::memset(cls + x + 4, kNotEdge, 4);
  }
  strong.insert(strong.end(), scratch, scratch + n);
  return x;
}

/// nms_row_avx2 on eight lanes (x86-64-v4), with mask registers for the lane choices and a compressing
/// store for the strong pixels: the same comparisons and arithmetic lane by lane. Returns the first pixel it
/// left to the caller (a multiple of 8 plus 1, <= w - 1).
__attribute__((target("avx512f,avx512bw,avx512vl,avx512dq"), optimize("fp-contract=off"))) inline std::ptrdiff_t
nms_row_avx512(const double* m_up, const double* m, const double* m_dn, const double* gi, const double* gj,
               const std::uint8_t* ok, std::ptrdiff_t w, double low, double high, std::uint8_t* cls,
               std::ptrdiff_t offset, std::vector<std::ptrdiff_t>& strong, std::ptrdiff_t* scratch) {
  const __m512d vlow = _mm512_set1_pd(low), vhigh = _mm512_set1_pd(high), zero = _mm512_setzero_pd();
  const __m512d one = _mm512_set1_pd(1.0);
  const __m512i lanes = _mm512_setr_epi64(0, 1, 2, 3, 4, 5, 6, 7);
  const __m128i candidate = _mm_set1_epi8(static_cast<char>(kCandidate));
  auto candidates = [&](std::ptrdiff_t x, __m512d& mc) {
    mc = _mm512_loadu_pd(m + x);
    __mmask8 c = _mm512_cmp_pd_mask(mc, vlow, _CMP_GE_OQ);
    if (ok) c &= static_cast<__mmask8>(_mm_test_epi8_mask(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(ok + x)),
                                                          _mm_set1_epi8(-1)));
    return c;
  };
  std::size_t n = 0;
  auto suppress = [&](std::ptrdiff_t x, __m512d mc, __mmask8 cand) {
    const __m512d vi = _mm512_loadu_pd(gi + x), vj = _mm512_loadu_pd(gj + x);
    const __mmask8 up = _mm512_cmp_pd_mask(vi, zero, _CMP_NLE_UQ), right = _mm512_cmp_pd_mask(vj, zero, _CMP_NLE_UQ);
    const __mmask8 diff = up ^ right;  // !cond1 of the reference
    const __m512d ai = _mm512_abs_pd(vi), aj = _mm512_abs_pd(vj);
    // i-major cases (same & ai > aj, or !same & ai >= aj) use w = aj / ai, the others ai / aj.
    const __mmask8 imajor = static_cast<__mmask8>((diff & _mm512_cmp_pd_mask(ai, aj, _CMP_NLT_UQ)) |
                                                  (~diff & _mm512_cmp_pd_mask(ai, aj, _CMP_GT_OQ)));
    const __m512d wv = _mm512_div_pd(_mm512_mask_blend_pd(imajor, ai, aj), _mm512_mask_blend_pd(imajor, aj, ai));
    const __m512d u0 = _mm512_loadu_pd(m_up + x), d0 = _mm512_loadu_pd(m_dn + x);
    const __m512d n12 = _mm512_mask_blend_pd(diff, _mm512_loadu_pd(m_dn + x + 1), _mm512_loadu_pd(m_up + x + 1));
    const __m512d n22 = _mm512_mask_blend_pd(diff, _mm512_loadu_pd(m_up + x - 1), _mm512_loadu_pd(m_dn + x - 1));
    const __m512d n11 = _mm512_mask_blend_pd(imajor, _mm512_loadu_pd(m + x + 1), _mm512_mask_blend_pd(diff, d0, u0));
    const __m512d n21 = _mm512_mask_blend_pd(imajor, _mm512_loadu_pd(m + x - 1), _mm512_mask_blend_pd(diff, u0, d0));
    const __m512d one_minus = _mm512_sub_pd(one, wv);
    const __m512d p1 = _mm512_add_pd(_mm512_mul_pd(n12, wv), _mm512_mul_pd(n11, one_minus));
    const __m512d p2 = _mm512_add_pd(_mm512_mul_pd(n22, wv), _mm512_mul_pd(n21, one_minus));
    const __mmask8 keep = cand & _mm512_cmp_pd_mask(p1, mc, _CMP_LE_OQ) & _mm512_cmp_pd_mask(p2, mc, _CMP_LE_OQ);
    _mm_storel_epi64(reinterpret_cast<__m128i*>(cls + x), _mm_maskz_mov_epi8(keep, candidate));
    const __mmask8 sb = keep & _mm512_cmp_pd_mask(mc, vhigh, _CMP_GE_OQ);
    // Compressed in a register and stored whole (the lanes past the count are overwritten later): AMD's Zen 4
    // runs a compressing store to memory as microcode, 40 % of this function's time there.
    const __m512i at = _mm512_add_epi64(_mm512_set1_epi64(offset + x), lanes);
    _mm512_storeu_si512(scratch + n, _mm512_maskz_compress_epi64(sb, at));
    n += static_cast<std::size_t>(__builtin_popcount(sb));
  };
  std::ptrdiff_t x = 1;
  // Two vectors per test, as nms_row_avx2.
  for (; x + 16 <= w - 1; x += 16) {
    __m512d m0, m1;
    const __mmask8 c0 = candidates(x, m0), c1 = candidates(x + 8, m1);
    if ((c0 | c1) == 0) {
      std::memset(cls + x, kNotEdge, 16);
      continue;
    }
    if (c0) suppress(x, m0, c0);
    else std::memset(cls + x, kNotEdge, 8);
    if (c1) suppress(x + 8, m1, c1);
    else std::memset(cls + x + 8, kNotEdge, 8);
  }
  strong.insert(strong.end(), scratch, scratch + n);
  return x;
}
#endif

#if SEGEN_CANNY_HAVE_AVX2
/// Division by one number d, rounded exactly as the division (the interior of a smoothed row divided by
/// the Gaussian of the ones), with fused multiply-adds: q0 = a * y with y = 1 / d rounded, then q += (a -
/// q d) y, the remainder a - q d exact in a fused multiply-add. q0 is within 1.5 units in the last place
/// (ulp) of a / d; a first correction brings it within 1 ulp (its own rounding plus a term below 2^-52
/// ulp), and from there one more gives the correctly rounded quotient (Markstein's theorem: y within half
/// an ulp of 1 / d, q within one ulp of a / d, no underflow or overflow). Where d y is within 2^-61 of 1
/// (d = 1 + 2^-52, the usual interior divisor: 1 - 2^-104), q0 is already within one ulp and one
/// correction does. Lanes outside [2^-800, 2^800] in magnitude (zeros, subnormals, infinities, NaN), and
/// divisors outside [2^-100, 2^100], take the division itself.
struct ExactDivisor {
  bool ok = false;   // d in range
  bool one = false;  // one correction is enough
  double d = 1.0, y = 1.0;  // the divisor (1 when out of range) and its rounded reciprocal
};
inline ExactDivisor exact_divisor(double d) {
  ExactDivisor e;
  const double ad = std::fabs(d);
  e.ok = ad >= 0x1p-100 && ad <= 0x1p100;
  e.y = e.ok ? 1.0 / d : 1.0;
  e.one = e.ok && std::fabs(std::fma(-d, e.y, 1.0)) <= 0x1p-61;
  e.d = e.ok ? d : 1.0;
  return e;
}
__attribute__((target("avx2,fma"), always_inline)) inline __m256d divide_exact(__m256d a, const ExactDivisor& e) {
  const __m256d vd = _mm256_set1_pd(e.d), vy = _mm256_set1_pd(e.y);
  const __m256d aa = _mm256_andnot_pd(_mm256_set1_pd(-0.0), a);
  const __m256d in = _mm256_and_pd(_mm256_cmp_pd(aa, _mm256_set1_pd(0x1p-800), _CMP_GE_OQ),
                                   _mm256_cmp_pd(aa, _mm256_set1_pd(0x1p800), _CMP_LE_OQ));
  if (_mm256_movemask_pd(in) != 0xf) return _mm256_div_pd(a, vd);
  __m256d q = _mm256_mul_pd(a, vy);
  if (!e.one) q = _mm256_fmadd_pd(_mm256_fnmadd_pd(q, vd, a), vy, q);
  return _mm256_fmadd_pd(_mm256_fnmadd_pd(q, vd, a), vy, q);
}
// divide_exact on eight lanes (x86-64-v4).
__attribute__((target("avx512f,fma"), always_inline)) inline __m512d divide_exact(__m512d a, const ExactDivisor& e) {
  const __m512d vd = _mm512_set1_pd(e.d), vy = _mm512_set1_pd(e.y);
  const __m512d aa = _mm512_abs_pd(a);
  const __mmask8 in = _mm512_cmp_pd_mask(aa, _mm512_set1_pd(0x1p-800), _CMP_GE_OQ) &
                      _mm512_cmp_pd_mask(aa, _mm512_set1_pd(0x1p800), _CMP_LE_OQ);
  if (in != 0xff) return _mm512_div_pd(a, vd);
  __m512d q = _mm512_mul_pd(a, vy);
  if (!e.one) q = _mm512_fmadd_pd(_mm512_fnmadd_pd(q, vd, a), vy, q);
  return _mm512_fmadd_pd(_mm512_fnmadd_pd(q, vd, a), vy, q);
}

/// The pixels [x, n) of gauss_hpass_div_avx2 / _avx512, one at a time.
__attribute__((optimize("fp-contract=off"))) inline void hpass_div_rest(const double* ext, const double* wl, int r,
                                                                        double* out, std::ptrdiff_t n,
                                                                        const double* d, std::ptrdiff_t x) {
  for (; x < n; ++x) {
    const double* c = ext + r + x;
    double acc = c[0] * wl[0];
    for (int j = r; j >= 1; --j) acc += (c[-j] + c[j]) * wl[j];
    out[x] = acc / d[x];
  }
}

/// gauss_hpass<double> followed by the division by the smoothed ones `d` (out[x] = sum / d[x]), in one
/// pass: by divide_exact where d is the one number d[x0] (x in [x0, x1)), by the division elsewhere. The
/// sums are formed as gauss_hpass forms them (fp-contract off).
__attribute__((target("avx2,fma"), optimize("fp-contract=off"))) inline void gauss_hpass_div_avx2(
    const double* ext, const double* wl, int r, double* out, std::ptrdiff_t n, const double* d, std::ptrdiff_t x0,
    std::ptrdiff_t x1) {
  const ExactDivisor e = exact_divisor(x1 > x0 ? d[x0] : 0.0);
  const bool fast = e.ok;
  const __m256d w0 = _mm256_set1_pd(wl[0]);
  std::ptrdiff_t x = 0;
  for (; x + 16 <= n; x += 16) {
    const double* c = ext + r + x;
    __m256d a[4];
    for (int k = 0; k < 4; ++k) a[k] = _mm256_mul_pd(_mm256_loadu_pd(c + 4 * k), w0);
    for (int j = r; j >= 1; --j) {
      const __m256d wj = _mm256_set1_pd(wl[j]);
      for (int k = 0; k < 4; ++k)
        a[k] = _mm256_add_pd(
            a[k], _mm256_mul_pd(_mm256_add_pd(_mm256_loadu_pd(c - j + 4 * k), _mm256_loadu_pd(c + j + 4 * k)), wj));
    }
    for (int k = 0; k < 4; ++k) {
      const std::ptrdiff_t xk = x + 4 * k;
      const __m256d q = fast && xk >= x0 && xk + 4 <= x1 ? divide_exact(a[k], e)
                                                         : _mm256_div_pd(a[k], _mm256_loadu_pd(d + xk));
      _mm256_storeu_pd(out + xk, q);
    }
  }
  hpass_div_rest(ext, wl, r, out, n, d, x);
}

/// gauss_hpass_div_avx2 on eight lanes (x86-64-v4): the same operations lane by lane.
__attribute__((target("avx512f,fma"), optimize("fp-contract=off"))) inline void gauss_hpass_div_avx512(
    const double* ext, const double* wl, int r, double* out, std::ptrdiff_t n, const double* d, std::ptrdiff_t x0,
    std::ptrdiff_t x1) {
  const ExactDivisor e = exact_divisor(x1 > x0 ? d[x0] : 0.0);
  const bool fast = e.ok;
  const __m512d w0 = _mm512_set1_pd(wl[0]);
  auto sum = [&](const double* c) {  // one vector of sums at c = ext + r + x
    __m512d a = _mm512_mul_pd(_mm512_loadu_pd(c), w0);
    for (int j = r; j >= 1; --j)
      a = _mm512_add_pd(a, _mm512_mul_pd(_mm512_add_pd(_mm512_loadu_pd(c - j), _mm512_loadu_pd(c + j)),
                                         _mm512_set1_pd(wl[j])));
    return a;
  };
  auto store = [&](std::ptrdiff_t xk, __m512d a) {
    _mm512_storeu_pd(out + xk, fast && xk >= x0 && xk + 8 <= x1 ? divide_exact(a, e)
                                                                 : _mm512_div_pd(a, _mm512_loadu_pd(d + xk)));
  };
  std::ptrdiff_t x = 0;
  for (; x + 32 <= n; x += 32) {  // four vectors per step: four independent chains of additions
    const double* c = ext + r + x;
    __m512d a[4];
    for (int k = 0; k < 4; ++k) a[k] = _mm512_mul_pd(_mm512_loadu_pd(c + 8 * k), w0);
    for (int j = r; j >= 1; --j) {
      const __m512d wj = _mm512_set1_pd(wl[j]);
      for (int k = 0; k < 4; ++k)
        a[k] = _mm512_add_pd(
            a[k], _mm512_mul_pd(_mm512_add_pd(_mm512_loadu_pd(c - j + 8 * k), _mm512_loadu_pd(c + j + 8 * k)), wj));
    }
    for (int k = 0; k < 4; ++k) store(x + 8 * k, a[k]);
  }
  for (; x + 8 <= n; x += 8) store(x, sum(ext + r + x));
  hpass_div_rest(ext, wl, r, out, n, d, x);
}
#endif

/// numpy's percentile (method 'linear') of `v` at q in [0, 1], as np.percentile(v, 100 * q). Reorders `v`.
template <class F>
double percentile_linear(std::vector<F>& v, double q) {
  const std::size_t n = v.size();
  const double vi = static_cast<double>(n - 1) * ((100.0 * q) / 100.0);
  double lo_d = std::floor(vi);
  if (lo_d < 0) lo_d = 0;
  auto lo = static_cast<std::size_t>(lo_d);
  if (lo > n - 1) lo = n - 1;
  const double g = vi - lo_d;
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(lo), v.end());
  const double a = static_cast<double>(v[lo]);
  if (lo + 1 >= n) return a;
  const double b = static_cast<double>(*std::min_element(v.begin() + static_cast<std::ptrdiff_t>(lo) + 1, v.end()));
  const double d = b - a;
  return g >= 0.5 ? b - d * (1 - g) : a + d * g;
}

/// Hysteresis within rows: starting from the strong pixels (offsets into `map`, whose rows are `stride`
/// apart), every kCandidate pixel 8-connected to one through kCandidate pixels with offsets in [lo, hi)
/// (whole rows) becomes kEdge. The edges found in the first and last row of the range are appended to
/// `border`: grow_edges() continues from them into the neighbouring ranges. Candidates never touch the
/// image border, so neighbours need no column checks.
///
/// Two depth-first floods run side by side, each on its own stack (`stack_a`, `stack_b`) and each seeded
/// from the strong pixels in turn. One flood is a chain of dependent steps (pop, read the neighbours, count
/// the pushes, pop again) that leaves most of the core idle; two independent chains in one loop overlap.
/// Which flood reaches a pixel first changes nothing: the edges are the pixels connected to a strong one.
inline void hysteresis_rows(std::uint8_t* map, std::ptrdiff_t stride, std::ptrdiff_t lo, std::ptrdiff_t hi,
                            const std::vector<std::ptrdiff_t>& strong, std::vector<std::ptrdiff_t>& stack_a,
                            std::vector<std::ptrdiff_t>& stack_b, std::vector<std::ptrdiff_t>& border) {
  const std::ptrdiff_t offs[8] = {-stride - 1, -stride, -stride + 1, -1, 1, stride - 1, stride, stride + 1};
  const std::ptrdiff_t first_end = lo + stride, last_begin = hi - stride;
  // One step of a flood: pop the top of `st` and push its unmarked candidate neighbours, marked.
  auto step = [&](std::vector<std::ptrdiff_t>& st, std::size_t& top) {
    if (st.size() < top + 8) st.resize(2 * (top + 8));
    std::ptrdiff_t* s = st.data();
    const std::ptrdiff_t j = s[--top];
    if (j >= first_end && j < last_begin) {
      // All neighbours are in the range. Branch-free: whether a neighbour is a candidate is close to a coin
      // toss, so each is marked (kCandidate - 1 == kEdge) and pushed by arithmetic.
      for (std::ptrdiff_t o : offs) {
        const std::ptrdiff_t k = j + o;
        const std::uint8_t v = map[k];
        const bool c = v == kCandidate;
        map[k] = static_cast<std::uint8_t>(v - c);
        s[top] = k;
        top += c;
      }
    } else {
      border.push_back(j);
      for (std::ptrdiff_t o : offs) {
        const std::ptrdiff_t k = j + o;
        if (k >= lo && k < hi && map[k] == kCandidate) {
          map[k] = kEdge;
          s[top++] = k;
        }
      }
    }
  };
  std::size_t next = 0;  // in `strong`
  // Start a flood on an empty stack from the next strong pixel not yet reached; false when none is left.
  auto seed = [&](std::vector<std::ptrdiff_t>& st, std::size_t& top) {
    for (; next < strong.size(); ++next) {
      const std::ptrdiff_t i = strong[next];
      if (map[i] != kCandidate) continue;
      map[i] = kEdge;
      if (st.empty()) st.resize(64);
      st[top++] = i;
      ++next;
      return true;
    }
    return false;
  };
  std::size_t ta = 0, tb = 0;
  for (;;) {
    if (ta == 0 && !seed(stack_a, ta)) break;
    if (tb == 0 && !seed(stack_b, tb)) break;
    step(stack_a, ta);
    step(stack_b, tb);
  }
  while (ta > 0) step(stack_a, ta);  // the strong pixels are used up: finish the flood still running
  while (tb > 0) step(stack_b, tb);
}

/// Every kCandidate pixel 8-connected to one of the kEdge pixels `edges` through kCandidate pixels becomes
/// kEdge (no range: the rest of the flood fill that hysteresis_rows stopped at its range's rows).
inline void grow_edges(std::uint8_t* map, std::ptrdiff_t stride, const std::vector<std::ptrdiff_t>& edges,
                       std::vector<std::ptrdiff_t>& stack) {
  const std::ptrdiff_t offs[8] = {-stride - 1, -stride, -stride + 1, -1, 1, stride - 1, stride, stride + 1};
  for (std::ptrdiff_t i : edges) {
    stack.push_back(i);
    while (!stack.empty()) {
      const std::ptrdiff_t j = stack.back();
      stack.pop_back();
      for (std::ptrdiff_t o : offs) {
        if (map[j + o] == kCandidate) {
          map[j + o] = kEdge;
          stack.push_back(j + o);
        }
      }
    }
  }
}

}  // namespace segen::detail
