#pragma once
// Private steps of segen::canny (features.cpp): Sobel gradients of a smoothed row, bilinear non-maximum
// suppression with scikit-image's case analysis, the magnitude quantiles and the 8-connected hysteresis.

#include <algorithm>  // std::nth_element, std::min_element
#include <cmath>      // std::sqrt, std::fabs, std::floor
#include <cstddef>    // std::ptrdiff_t
#include <cstdint>    // std::uint8_t
#include <cstring>    // std::memcpy
#include <type_traits>  // std::is_same_v
#include <vector>     // std::vector

#include "detail/features_fir.hpp"

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
template <class W>
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
  m2[x] = s + vj * vj;
}

/// sobel_at for every pixel of a row, four pixels at a time in the interior (the same operations lane by
/// lane, in double and rounded to W where the scalar form rounds).
template <class W>
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
      vstore<double, 32>(m2 + x, s + vj * vj);
    } else {
      typedef float F4 __attribute__((vector_size(16)));
      const F4 fi = __builtin_convertvector(vi, F4), fj = __builtin_convertvector(vj, F4);
      const F4 s = fi * fi;
      const F4 m = s + fj * fj;
      std::memcpy(m2 + x, &m, sizeof(m));
    }
  }
#endif
  for (; x < w - 1; ++x) sobel_at(up, cur, dn, x - 1, x, x + 1, gi, gj, m2);
  sobel_at(up, cur, dn, 0, 0, w > 1 ? 1 : 0, gi, gj, m2);
  if (w > 1) sobel_at(up, cur, dn, w - 2, w - 1, w - 1, gi, gj, m2);
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
inline void hysteresis_rows(std::uint8_t* map, std::ptrdiff_t stride, std::ptrdiff_t lo, std::ptrdiff_t hi,
                            const std::vector<std::ptrdiff_t>& strong, std::vector<std::ptrdiff_t>& stack,
                            std::vector<std::ptrdiff_t>& border) {
  const std::ptrdiff_t offs[8] = {-stride - 1, -stride, -stride + 1, -1, 1, stride - 1, stride, stride + 1};
  const std::ptrdiff_t first_end = lo + stride, last_begin = hi - stride;
  std::size_t top = 0;
  for (std::ptrdiff_t i : strong) {
    if (map[i] != kCandidate) continue;
    map[i] = kEdge;
    if (stack.size() < 8) stack.resize(64);
    stack[top++] = i;
    while (top > 0) {
      const std::ptrdiff_t j = stack[--top];
      if (stack.size() < top + 8) stack.resize(2 * (top + 8));
      std::ptrdiff_t* st = stack.data();
      if (j >= first_end && j < last_begin) {
        // All neighbours are in the range. Branch-free: whether a neighbour is a candidate is close to a
        // coin toss, so each is marked (kCandidate - 1 == kEdge) and pushed by arithmetic.
        for (std::ptrdiff_t o : offs) {
          const std::ptrdiff_t k = j + o;
          const std::uint8_t v = map[k];
          const bool c = v == kCandidate;
          map[k] = static_cast<std::uint8_t>(v - c);
          st[top] = k;
          top += c;
        }
      } else {
        border.push_back(j);
        for (std::ptrdiff_t o : offs) {
          const std::ptrdiff_t k = j + o;
          if (k >= lo && k < hi && map[k] == kCandidate) {
            map[k] = kEdge;
            st[top++] = k;
          }
        }
      }
    }
  }
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
