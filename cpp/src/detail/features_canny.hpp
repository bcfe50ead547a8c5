#pragma once
// Private steps of segen::canny (features.cpp): Sobel gradients of a smoothed row, bilinear non-maximum
// suppression with scikit-image's case analysis, the magnitude quantiles and the 8-connected hysteresis.

#include <algorithm>  // std::nth_element, std::min_element
#include <cmath>      // std::sqrt, std::fabs, std::floor
#include <cstddef>    // std::ptrdiff_t
#include <cstdint>    // std::uint8_t
#include <type_traits>  // std::is_same_v
#include <vector>     // std::vector

#include "detail/features_fir.hpp"

namespace segen::detail {

/// Values of the edge map while it is built: candidates of the hysteresis, then edges.
enum : std::uint8_t { kNotEdge = 0, kEdge = 1, kCandidate = 2 };

/// Sobel gradients of row `cur` (rows `up`, `dn` above and below, already border-resolved) as
/// scipy.ndimage.sobel computes them: gi (axis 0) = [1,2,1] along x of (dn - up); gj (axis 1) = [1,2,1]
/// along y of the central difference along x, each summed as 2 * centre + (left + right) like scipy's
/// symmetric correlation; columns outside the row reflect (x = -1 -> 0, x = w -> w - 1).
/// Results are multiplied by `scale`; mag = sqrt(gi^2 + gj^2).
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
  for (; x + 2 * L <= n; x += 2 * L) {  // two vectors per step for two independent sums
    V a0 = vload<double>(c + x) * wl[0], a1 = vload<double>(c + x + L) * wl[0];
    for (int j = r; j >= 1; --j) {
      const double* p = rows[r - j] + x;
      const double* q = rows[r + j] + x;
      a0 += (vload<double>(p) + vload<double>(q)) * wl[j];
      a1 += (vload<double>(p + L) + vload<double>(q + L)) * wl[j];
    }
    vstore<double, 32>(out + x, round_to<W>(a0));
    vstore<double, 32>(out + x + L, round_to<W>(a1));
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
  for (; x + 2 * L <= n; x += 2 * L) {
    const double* c = ext + r + x;
    V a0 = vload<double>(c) * wl[0], a1 = vload<double>(c + L) * wl[0];
    for (int j = r; j >= 1; --j) {
      a0 += (vload<double>(c - j) + vload<double>(c + j)) * wl[j];
      a1 += (vload<double>(c - j + L) + vload<double>(c + j + L)) * wl[j];
    }
    const V r0 = round_to<W>(a0), r1 = round_to<W>(a1);
    for (int l = 0; l < L; ++l) out[x + l] = static_cast<W>(r0[l]), out[x + L + l] = static_cast<W>(r1[l]);
  }
#endif
  for (; x < n; ++x) {
    const double* c = ext + r + x;
    double acc = c[0] * wl[0];
    for (int j = r; j >= 1; --j) acc += (c[-j] + c[j]) * wl[j];
    out[x] = static_cast<W>(acc);
  }
}

/// Sobel gradients and magnitude of pixel x of row `cur` as skimage.feature.canny computes them with
/// scipy.ndimage.sobel (reflected borders; up / dn are the border-resolved rows above and below):
/// gj: central differences along x, rounded to W, then 2 d(y) + (d(y-1) + d(y+1)) in double;
/// gi: differences along y, then the same along x; mag = sqrt(gi * gi + gj * gj) in W.
template <class W>
SEGEN_ALWAYS_INLINE SEGEN_NO_CONTRACT void sobel_at(const W* up, const W* cur, const W* dn, std::ptrdiff_t l, std::ptrdiff_t x,
                                             std::ptrdiff_t r, W* gi, W* gj, W* mag) {
  auto diff = [](W a, W b) { return static_cast<W>(static_cast<double>(a) - static_cast<double>(b)); };
  const W du = diff(up[r], up[l]), dc = diff(cur[r], cur[l]), dd = diff(dn[r], dn[l]);
  const W vj = static_cast<W>(static_cast<double>(dc) * 2.0 + (static_cast<double>(du) + static_cast<double>(dd)));
  const W el = diff(dn[l], up[l]), ec = diff(dn[x], up[x]), er = diff(dn[r], up[r]);
  const W vi = static_cast<W>(static_cast<double>(ec) * 2.0 + (static_cast<double>(el) + static_cast<double>(er)));
  gi[x] = vi;
  gj[x] = vj;
  const W m2 = vi * vi;
  mag[x] = std::sqrt(m2 + vj * vj);
}

template <class W>
SEGEN_ALWAYS_INLINE SEGEN_NO_CONTRACT void sobel_row(const W* __restrict up, const W* __restrict cur, const W* __restrict dn,
                                              std::ptrdiff_t w, W* __restrict gi, W* __restrict gj,
                                              W* __restrict mag) {
  for (std::ptrdiff_t x = 1; x < w - 1; ++x) sobel_at(up, cur, dn, x - 1, x, x + 1, gi, gj, mag);
  sobel_at(up, cur, dn, 0, 0, w > 1 ? 1 : 0, gi, gj, mag);
  if (w > 1) sobel_at(up, cur, dn, w - 2, w - 1, w - 1, gi, gj, mag);
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

/// Hysteresis: starting from the strong pixels (offsets into `map`, whose rows are `stride` apart), every
/// kCandidate pixel 8-connected to one through kCandidate pixels becomes kEdge. Candidates never touch the
/// image border, so neighbours need no bounds checks.
inline void hysteresis(std::uint8_t* map, std::ptrdiff_t stride, const std::vector<std::ptrdiff_t>& strong,
                       std::vector<std::ptrdiff_t>& stack) {
  const std::ptrdiff_t offs[8] = {-stride - 1, -stride, -stride + 1, -1, 1, stride - 1, stride, stride + 1};
  for (std::ptrdiff_t i : strong) {
    if (map[i] != kCandidate) continue;
    map[i] = kEdge;
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
