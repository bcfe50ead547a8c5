#include "segen/filters.hpp"

#include <algorithm>  // std::min
#include <cmath>    // std::exp, std::sqrt, std::atan2, std::isfinite
#include <cstdint>  // std::uint8_t, std::uint16_t
#include <cstring>  // std::memcpy
#include <string>
#include <utility>  // std::pair
#include <vector>

#include "detail/common.hpp"
#include "detail/filters_engine.hpp"
#include "detail/simd.hpp"
#include "segen/parallel.hpp"

namespace segen {
namespace detail {

// ---- hot loops (compiled for baseline x86-64 and AVX2/FMA, chosen at load time) ---------------------

SEGEN_MULTIVERSION(V3, , void, convert_row, (const std::uint8_t* s, float* d, std::ptrdiff_t n), (s, d, n)) {
  for (std::ptrdiff_t i = 0; i < n; ++i) d[i] = static_cast<float>(s[i]);
}
SEGEN_MULTIVERSION(V3, , void, convert_row, (const std::uint16_t* s, float* d, std::ptrdiff_t n), (s, d, n)) {
  for (std::ptrdiff_t i = 0; i < n; ++i) d[i] = static_cast<float>(s[i]);
}

namespace {

// B-byte vectors (detail/simd.hpp): 32 bytes are one AVX register at x86-64-v3, two SSE registers at
// baseline, a scalar in the portable build; the tap loops below also get 64-byte vectors (one AVX-512
// register) in their x86-64-v4 copies (B = vector_bytes(kLevel)): LoG 0.77x, Gaussian 0.73x, 7x7
// convolution 0.88x the AVX2 copy's time on an Intel Xeon (1 thread, one process).
// Every column of a row at least one vector wide is computed by a vector lane: a last partial vector is
// computed again as the whole vector that ends at the row's end (its lanes overlap the vector before and
// compute the same values), and in the 64-byte copies a row narrower than a vector takes the 32-byte loops.
// So x86-64-v3 and v4 give the same bits (tested), and a column's value does not depend on where the row
// ends. The scalar remainder loops, left to rows narrower than a vector, keep the lanes' order of operations
// but not always their rounding (a 7x7 convolution differed by 3e-7, relative, when they ran row tails);
// baseline x86-64 has no fused multiply-add, and its results differ in the last bits in any case.
template <class A, int B = 32>
using VecOf = detail::Vec<A, B>;

template <class V, class A>
SEGEN_ALWAYS_INLINE V loadu(const A* p) {
  V v;
  std::memcpy(&v, p, sizeof(V));
  return v;
}
template <class V, class A>
SEGEN_ALWAYS_INLINE void storeu(A* p, const V& v) {
  std::memcpy(p, &v, sizeof(V));
}

// out[i .. i + NV * lanes) = sum of the taps, with NV vector accumulators kept in registers.
template <class A, int B, int NV>
SEGEN_ALWAYS_INLINE void taps_block(const typename TapPattern<A>::View& pat, const A* const* p, A* out,
                                   std::ptrdiff_t i) {
  using V = typename VecOf<A, B>::type;
  constexpr int L = static_cast<int>(sizeof(V) / sizeof(A));
  V acc[NV];
#pragma GCC unroll 16
  for (int v = 0; v < NV; ++v) acc[v] = V{};
  for (int k = 0; k < pat.n_single; ++k) {
    const A* a = p[pat.single[k].a] + i;
    const A w = pat.single[k].w;
#pragma GCC unroll 16
    for (int v = 0; v < NV; ++v) acc[v] += w * loadu<V>(a + v * L);
  }
  for (int k = 0; k < pat.n_sum; ++k) {
    const A* a = p[pat.sum[k].a] + i;
    const A* b = p[pat.sum[k].b] + i;
    const A w = pat.sum[k].w;
#pragma GCC unroll 16
    for (int v = 0; v < NV; ++v) acc[v] += w * (loadu<V>(a + v * L) + loadu<V>(b + v * L));
  }
  for (int k = 0; k < pat.n_diff; ++k) {
    const A* a = p[pat.diff[k].a] + i;
    const A* b = p[pat.diff[k].b] + i;
    const A w = pat.diff[k].w;
#pragma GCC unroll 16
    for (int v = 0; v < NV; ++v) acc[v] += w * (loadu<V>(a + v * L) - loadu<V>(b + v * L));
  }
#pragma GCC unroll 16
  for (int v = 0; v < NV; ++v) storeu(out + i + v * L, acc[v]);
}

template <class A>
SEGEN_ALWAYS_INLINE void taps_scalar(const typename TapPattern<A>::View& pat, const A* const* p, A* out,
                                    std::ptrdiff_t i) {
  A acc = 0;
  for (int k = 0; k < pat.n_single; ++k) acc += pat.single[k].w * p[pat.single[k].a][i];
  for (int k = 0; k < pat.n_sum; ++k) acc += pat.sum[k].w * (p[pat.sum[k].a][i] + p[pat.sum[k].b][i]);
  for (int k = 0; k < pat.n_diff; ++k) acc += pat.diff[k].w * (p[pat.diff[k].a][i] - p[pat.diff[k].b][i]);
  out[i] = acc;
}

template <class A, int B>
SEGEN_ALWAYS_INLINE void apply_taps_impl(const typename TapPattern<A>::View& pat, const A* const* p, A* out,
                                        std::ptrdiff_t n) {
  constexpr std::ptrdiff_t L = VecOf<A, B>::lanes;
  if constexpr (B > 32) {
    if (n < L) return apply_taps_impl<A, B / 2>(pat, p, out, n);  // a row narrower than a vector: as x86-64-v3
  }
  constexpr int NV = 8;
  std::ptrdiff_t i = 0;
  for (; i + NV * L <= n; i += NV * L) taps_block<A, B, NV>(pat, p, out, i);
  for (; i + L <= n; i += L) taps_block<A, B, 1>(pat, p, out, i);
  if (i < n && n >= L) i = n, taps_block<A, B, 1>(pat, p, out, n - L);  // the last vector again, overlapping
  for (; i < n; ++i) taps_scalar<A>(pat, p, out, i);
}

}  // namespace

/// out[i] = sum over the pattern's taps of w * p[slot][i], for i in [0, n).
/// The hot loops call nothing out of line (see TapPattern::View).
SEGEN_MULTIVERSION(V4, , void, apply_taps_view,
                   (TapPattern<float>::View pat, const float* const* p, float* out, std::ptrdiff_t n),
                   (pat, p, out, n)) {
  apply_taps_impl<float, detail::vector_bytes(kLevel)>(pat, p, out, n);
}
SEGEN_MULTIVERSION(V4, , void, apply_taps_view,
                   (TapPattern<double>::View pat, const double* const* p, double* out, std::ptrdiff_t n),
                   (pat, p, out, n)) {
  apply_taps_impl<double, detail::vector_bytes(kLevel)>(pat, p, out, n);
}
template <class A>
void apply_taps(const TapPattern<A>& pat, const A* const* p, A* out, std::ptrdiff_t n) {
  apply_taps_view(pat.view(), p, out, n);
}

namespace {

// kRows consecutive output rows at once, for a kh x kw kernel over source rows p[0 .. kRows + kh - 2]:
//   out[r][i] = sum_{j, k} w[j * kw + k] * p[r + j][i + k * step].
// Each source row is loaded once per column chunk and shift and used by every output row it contributes
// to: this cuts the (L2-bound) row reads about kRows times compared to one output row at a time. No
// folding and no tap skipping (so every weight must be non-negligible); needs kh >= kRows - 1. The
// vertical pass of a separable filter is the case kw = 1.
constexpr int kRows = 4;

template <class A, int B, int NV, int R>
SEGEN_ALWAYS_INLINE void rows_accumulate(typename VecOf<A, B>::type (&acc)[R][NV], const A* w, int kw,
                                        std::ptrdiff_t step, const A* row, int s, int r_lo, int r_hi,
                                        std::ptrdiff_t i) {
  using V = typename VecOf<A, B>::type;
  constexpr int L = static_cast<int>(sizeof(V) / sizeof(A));
  for (int k = 0; k < kw; ++k) {
    V x[NV];
#pragma GCC unroll 16
    for (int v = 0; v < NV; ++v) x[v] = loadu<V>(row + i + k * step + v * L);
#pragma GCC unroll 16
    for (int r = 0; r < R; ++r) {
      if (r < r_lo || r > r_hi) continue;  // compile-time after unrolling the callers' loops
      const A ww = w[(s - r) * kw + k];
#pragma GCC unroll 16
      for (int v = 0; v < NV; ++v) acc[r][v] += ww * x[v];
    }
  }
}

template <class A, int B, int NV>
SEGEN_ALWAYS_INLINE void rows_block(const A* w, int kh, int kw, std::ptrdiff_t step, const A* const* p,
                                   A* const* out, std::ptrdiff_t i) {
  using V = typename VecOf<A, B>::type;
  constexpr int L = static_cast<int>(sizeof(V) / sizeof(A));
  constexpr int R = kRows;
  V acc[R][NV];
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 16
    for (int v = 0; v < NV; ++v) acc[r][v] = V{};
#pragma GCC unroll 16
  for (int s = 0; s < R - 1; ++s)  // the first rows feed only the first outputs (r <= s)
    rows_accumulate<A, B, NV, R>(acc, w, kw, step, p[s], s, 0, s, i);
  for (int s = R - 1; s < kh; ++s)  // every output takes these rows
    rows_accumulate<A, B, NV, R>(acc, w, kw, step, p[s], s, 0, R - 1, i);
#pragma GCC unroll 16
  for (int e = 0; e < R - 1; ++e)  // the last rows feed only the last outputs (s - r < kh)
    rows_accumulate<A, B, NV, R>(acc, w, kw, step, p[kh + e], kh + e, e + 1, R - 1, i);
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 16
    for (int v = 0; v < NV; ++v) storeu(out[r] + i + v * L, acc[r][v]);
}

template <class A, int B>
SEGEN_ALWAYS_INLINE void rows_impl(const A* w, int kh, int kw, std::ptrdiff_t step, const A* const* p,
                                  A* const* out, std::ptrdiff_t n) {
  constexpr std::ptrdiff_t L = VecOf<A, B>::lanes;
  if constexpr (B > 32) {
    if (n < L) return rows_impl<A, B / 2>(w, kh, kw, step, p, out, n);
  }
  std::ptrdiff_t i = 0;
  for (; i + 2 * L <= n; i += 2 * L) rows_block<A, B, 2>(w, kh, kw, step, p, out, i);
  for (; i + L <= n; i += L) rows_block<A, B, 1>(w, kh, kw, step, p, out, i);
  if (i < n && n >= L) i = n, rows_block<A, B, 1>(w, kh, kw, step, p, out, n - L);
  for (; i < n; ++i) {  // same order of operations as the vector blocks
    for (int r = 0; r < kRows; ++r) {
      A acc = 0;
      for (int j = 0; j < kh; ++j)
        for (int k = 0; k < kw; ++k) acc += w[j * kw + k] * p[r + j][i + k * step];
      out[r][i] = acc;
    }
  }
}

}  // namespace

SEGEN_MULTIVERSION(V4, , void, rows_taps,
                   (const float* w, int kh, int kw, std::ptrdiff_t step, const float* const* p, float* const* out,
                    std::ptrdiff_t n), (w, kh, kw, step, p, out, n)) {
  rows_impl<float, detail::vector_bytes(kLevel)>(w, kh, kw, step, p, out, n);
}
SEGEN_MULTIVERSION(V4, , void, rows_taps,
                   (const double* w, int kh, int kw, std::ptrdiff_t step, const double* const* p, double* const* out,
                    std::ptrdiff_t n), (w, kh, kw, step, p, out, n)) {
  rows_impl<double, detail::vector_bytes(kLevel)>(w, kh, kw, step, p, out, n);
}

namespace {

// Two symmetric kernels of radius r over one padded row, sharing the pair sums:
//   o0[i] = w0[0] * x[i] + sum_{k=1..r} w0[k] * (x[i - k * step] + x[i + k * step]), o1 likewise with w1.
// Every weight is used, zero or not (as scipy.ndimage.correlate1d does: 0 * inf is NaN there too).
template <class A, int B, int NV>
SEGEN_ALWAYS_INLINE void sym2_block(const A* x, std::ptrdiff_t step, const A* w0, const A* w1, int r, A* o0, A* o1,
                                   std::ptrdiff_t i) {
  using V = typename VecOf<A, B>::type;
  constexpr int L = static_cast<int>(sizeof(V) / sizeof(A));
  V a0[NV], a1[NV];
#pragma GCC unroll 16
  for (int v = 0; v < NV; ++v) {
    const V c = loadu<V>(x + i + v * L);
    a0[v] = w0[0] * c;
    a1[v] = w1[0] * c;
  }
  for (int k = 1; k <= r; ++k) {
    const A* lo = x + i - k * step;
    const A* hi = x + i + k * step;
    const A u0 = w0[k], u1 = w1[k];
#pragma GCC unroll 16
    for (int v = 0; v < NV; ++v) {
      const V sum = loadu<V>(lo + v * L) + loadu<V>(hi + v * L);
      a0[v] += u0 * sum;
      a1[v] += u1 * sum;
    }
  }
#pragma GCC unroll 16
  for (int v = 0; v < NV; ++v) {
    storeu(o0 + i + v * L, a0[v]);
    storeu(o1 + i + v * L, a1[v]);
  }
}

template <class A, int B>
SEGEN_ALWAYS_INLINE void sym2_impl(const A* x, std::ptrdiff_t step, const A* w0, const A* w1, int r, A* o0, A* o1,
                                  std::ptrdiff_t n) {
  constexpr std::ptrdiff_t L = VecOf<A, B>::lanes;
  if constexpr (B > 32) {
    if (n < L) return sym2_impl<A, B / 2>(x, step, w0, w1, r, o0, o1, n);
  }
  std::ptrdiff_t i = 0;
  for (; i + 4 * L <= n; i += 4 * L) sym2_block<A, B, 4>(x, step, w0, w1, r, o0, o1, i);
  for (; i + L <= n; i += L) sym2_block<A, B, 1>(x, step, w0, w1, r, o0, o1, i);
  if (i < n && n >= L) i = n, sym2_block<A, B, 1>(x, step, w0, w1, r, o0, o1, n - L);
  for (; i < n; ++i) {  // same order of operations as the vector blocks
    A a0 = w0[0] * x[i], a1 = w1[0] * x[i];
    for (int k = 1; k <= r; ++k) {
      const A sum = x[i - k * step] + x[i + k * step];
      a0 += w0[k] * sum;
      a1 += w1[k] * sum;
    }
    o0[i] = a0;
    o1[i] = a1;
  }
}

}  // namespace

SEGEN_MULTIVERSION(V4, , void, sym2_taps,
                   (const float* x, std::ptrdiff_t step, const float* w0, const float* w1, int r, float* o0,
                    float* o1, std::ptrdiff_t n), (x, step, w0, w1, r, o0, o1, n)) {
  sym2_impl<float, detail::vector_bytes(kLevel)>(x, step, w0, w1, r, o0, o1, n);
}
SEGEN_MULTIVERSION(V4, , void, sym2_taps,
                   (const double* x, std::ptrdiff_t step, const double* w0, const double* w1, int r, double* o0,
                    double* o1, std::ptrdiff_t n), (x, step, w0, w1, r, o0, o1, n)) {
  sym2_impl<double, detail::vector_bytes(kLevel)>(x, step, w0, w1, r, o0, o1, n);
}

/// mag[i] = sqrt((a[i]^2 + b[i]^2) / 2).
SEGEN_MULTIVERSION(V3, , void, magnitude_row,
                   (const float* a, const float* b, float* mag, std::ptrdiff_t n), (a, b, mag, n)) {
  for (std::ptrdiff_t i = 0; i < n; ++i) mag[i] = std::sqrt((a[i] * a[i] + b[i] * b[i]) * 0.5f);
}
SEGEN_MULTIVERSION(V3, , void, magnitude_row,
                   (const double* a, const double* b, double* mag, std::ptrdiff_t n), (a, b, mag, n)) {
  for (std::ptrdiff_t i = 0; i < n; ++i) mag[i] = std::sqrt((a[i] * a[i] + b[i] * b[i]) * 0.5);
}

namespace {

// atan2 on [-pi, pi] from a degree-17 odd polynomial for atan on [0, 1] (coefficients fitted for this file,
// max error 1e-7 rad before rounding) and the octant reflections. Written once for scalars and for GCC
// vectors (selects rather than branches, so it vectorises without -fno-trapping-math).
constexpr float kAtan[9] = {0.9999998807907104f,  -0.33332598209381104f, 0.19985906779766083f,
                            -0.14161229133605957f, 0.10498946905136108f,  -0.07234860956668854f,
                            0.03978128358721733f,  -0.014401402324438095f, 0.0024567374493926764f};
constexpr float kHalfPi = 1.57079632679489662f, kPi = 3.14159265358979324f;

template <class P>
SEGEN_ALWAYS_INLINE P atan_poly(P a) {
  const P s = a * a;
  P p = kAtan[8] * s + kAtan[7];
  for (int k = 6; k >= 0; --k) p = p * s + kAtan[k];
  return p * a;
}

SEGEN_ALWAYS_INLINE float atan2_scalar(float y, float x) {
  if (x != x || y != y) return x + y;
  const float ax = std::fabs(x), ay = std::fabs(y);
  const bool steep = ay > ax;
  const float hi = steep ? ay : ax, lo = steep ? ax : ay;
  if (!(hi > 0.f)) return 0.f;
  float p = atan_poly(lo / hi);
  if (steep) p = kHalfPi - p;
  if (x < 0.f) p = kPi - p;
  return std::copysign(p, y);
}

}  // namespace

/// dir[i] = atan2(gy[i], gx[i]) in float, within 4e-7 rad of the exact angle; 0 where both components are
/// 0 and NaN where either is NaN.
SEGEN_MULTIVERSION(V3, , void, direction_row,
                   (const float* gy, const float* gx, float* dir, std::ptrdiff_t n), (gy, gx, dir, n)) {
  std::ptrdiff_t i = 0;
#if SEGEN_HAVE_VECTOR_EXT
  using V = VecOf<float>::type;
  typedef std::int32_t VI __attribute__((vector_size(32)));
  constexpr std::ptrdiff_t L = 8;
  for (; i + L <= n; i += L) {
    const V y = loadu<V>(gy + i), x = loadu<V>(gx + i);
    const VI sy = __builtin_bit_cast(VI, y);
    const V ax = __builtin_bit_cast(V, __builtin_bit_cast(VI, x) & 0x7fffffff);
    const V ay = __builtin_bit_cast(V, sy & 0x7fffffff);
    const VI steep = ay > ax;
    const V hi = steep ? ay : ax, lo = steep ? ax : ay;
    const VI nonzero = hi > 0.f;
    const V a = nonzero ? lo / hi : V{};
    V p = atan_poly(a);
    p = steep ? kHalfPi - p : p;
    p = x < 0.f ? kPi - p : p;
    p = __builtin_bit_cast(V, (__builtin_bit_cast(VI, p) & 0x7fffffff) | (sy & INT32_MIN));  // copysign(p, y)
    p = nonzero ? p : V{};
    p = ((x != x) | (y != y)) ? x + y : p;
    storeu(dir + i, p);
  }
#endif
  for (; i < n; ++i) dir[i] = atan2_scalar(gy[i], gx[i]);
}
void direction_row(const double* gy, const double* gx, double* dir, std::ptrdiff_t n) {
  for (std::ptrdiff_t i = 0; i < n; ++i)
    dir[i] = gy[i] == 0.0 && gx[i] == 0.0 ? 0.0 : std::atan2(gy[i], gx[i]);
}

}  // namespace detail

namespace {

using detail::RowSource;
using detail::TapPattern;

// ---- validation ------------------------------------------------------------------------------------

template <class T, class O>
void check_io(ImageView<const T> src, ImageView<O> out) {
  static_assert(std::is_same_v<O, filter_output_t<T>>, "the output type must be filter_output_t<T>");
  detail::require_nonempty(src, "image");
  detail::require_nonempty(out, "out");
  detail::require_same_shape(src, out, "image", "out");
  detail::require_no_overlap(src, out, "image", "out");
}

void check_sigma(double s, const char* name, bool allow_zero) {
  if (!std::isfinite(s) || s < 0 || (s == 0 && !allow_zero))
    throw InvalidArgument(std::string("`") + name + "` must be " + (allow_zero ? ">= 0" : "> 0") +
                          " and finite; got " + detail::format_number(s));
}

void check_truncate(double t) {
  if (!std::isfinite(t) || t <= 0)
    throw InvalidArgument("`truncate` must be > 0 and finite; got " + detail::format_number(t));
}

void check_kernel(const double* w, std::ptrdiff_t n, const char* name) {
  if (n <= 0) throw InvalidArgument(std::string("`") + name + "` must be non-empty");
  for (std::ptrdiff_t i = 0; i < n; ++i)
    if (!std::isfinite(w[i]))
      throw InvalidArgument(std::string("`") + name + "` must contain only finite values; got " + detail::format_number(w[i]) +
                            " at flat index " + std::to_string(i));
}

// The 2-D weights as a contiguous row-major vector, validated.
std::vector<double> kernel_2d(ImageView<const double> weights) {
  if (weights.data == nullptr || weights.height <= 0 || weights.width <= 0)
    throw InvalidArgument("`weights` must be non-empty; got shape " +
                          detail::shape_str(weights.height, weights.width, weights.channels));
  if (weights.channels != 1)
    throw InvalidArgument("`weights` must be 2-D (one channel); got " + std::to_string(weights.channels) +
                          " channels");
  std::vector<double> w(static_cast<std::size_t>(weights.height * weights.width));
  for (std::ptrdiff_t y = 0; y < weights.height; ++y)
    for (std::ptrdiff_t x = 0; x < weights.width; ++x) w[y * weights.width + x] = weights(y, x);
  check_kernel(w.data(), static_cast<std::ptrdiff_t>(w.size()), "weights");
  return w;
}

constexpr std::ptrdiff_t kGrainGroups = 4;  // groups of detail::kRows rows per parallel block, at least

// ---- drivers -----------------------------------------------------------------------------------------

// One separable term: a vertical pass with `v` (all terms share its size and centre), then a horizontal
// pass with `h` over the vertical result padded following the border (`h_cval` pads for Constant).
struct Term {
  std::vector<double> v, h;
  double h_cval;
};

enum class Combine { Sum, Magnitude };

// out = sum of the terms (Combine::Sum), or out = sqrt((t0^2 + t1^2) / 2) with optionally
// direction = atan2(t0, t1) (Combine::Magnitude, two terms). Output rows go by groups of kRows, so that
// the vertical pass can share its row reads (detail::rows_taps) where the kernel allows it.
template <class T, class A>
void run_terms(ImageView<const T> src, ImageView<A> out, ImageView<A> direction, const std::vector<Term>& terms,
               Border border, double cval, Combine combine) {
  const int nt = static_cast<int>(terms.size());
  const int nv = static_cast<int>(terms[0].v.size()), nh = static_cast<int>(terms[0].h.size());
  const int ay = nv / 2, ax = nh / 2;
  constexpr int R = detail::kRows;
  std::vector<TapPattern<A>> vpat, hpat;
  TapPattern<A> hsum;              // Combine::Sum: all horizontal taps at once, term t's slots at t * nh
  std::vector<std::vector<A>> vw;  // the vertical weights, for detail::rows_taps
  std::vector<char> shared_rows;   // whether a term's vertical pass may use detail::rows_taps
  for (const Term& t : terms) {
    vpat.push_back(detail::make_pattern<A>(t.v.data(), nv));
    hpat.push_back(detail::make_pattern<A>(t.h.data(), nh));
    const int off = static_cast<int>(hpat.size() - 1) * nh;
    for (auto x : hpat.back().single) hsum.single.push_back({x.w, x.a + off});
    for (auto x : hpat.back().sum) hsum.sum.push_back({x.w, x.a + off, x.b + off});
    for (auto x : hpat.back().diff) hsum.diff.push_back({x.w, x.a + off, x.b + off});
    vw.emplace_back(t.v.begin(), t.v.end());
    bool ok = nv >= R - 1;
    for (double x : t.v) ok = ok && !detail::negligible(x);
    shared_rows.push_back(ok);
  }
  const std::ptrdiff_t h = src.height, w = src.width, c = src.channels, n = w * c;
  const std::ptrdiff_t pad_l = ax, pad_r = nh - 1 - ax, len = (pad_l + w + pad_r) * c;
  const int window = static_cast<int>(std::min<std::ptrdiff_t>(nv + R - 1, h));
  const bool with_dir = combine == Combine::Magnitude && !direction.empty();

  // Parallel over whole groups of R rows, so that the path each row takes (hence its rounding) does not
  // depend on how the rows are split between threads.
  parallel_for((h + R - 1) / R, [&](std::ptrdiff_t g0, std::ptrdiff_t g1) {
    const std::ptrdiff_t y0 = g0 * R, y1 = std::min(h, g1 * R);
    RowSource<T, A> rows(src, border, static_cast<A>(cval), window);
    // buf[(t * R + r) * len]: padded vertical result of term t for output row y + r
    std::vector<A> buf(static_cast<std::size_t>(len * nt * R));
    std::vector<A> comp(combine == Combine::Magnitude ? static_cast<std::size_t>(n * nt) : 0);
    std::vector<const A*> vp(static_cast<std::size_t>(nv + R - 1)), hp(static_cast<std::size_t>(nh * nt));
    std::vector<A*> vout(R);
    for (std::ptrdiff_t y = y0; y < y1; y += R) {
      const int rows_now = static_cast<int>(std::min<std::ptrdiff_t>(R, y1 - y));
      rows.reserve(y - ay, nv + rows_now - 1, y);
      for (int j = 0; j < nv + rows_now - 1; ++j) vp[j] = rows.row(y + j - ay, y);
      for (int t = 0; t < nt; ++t) {
        for (int r = 0; r < R; ++r) vout[r] = buf.data() + (t * R + r) * len + pad_l * c;
        if (rows_now == R && shared_rows[t]) {
          detail::rows_taps(vw[t].data(), nv, 1, 0, vp.data(), vout.data(), n);
        } else {
          for (int r = 0; r < rows_now; ++r) detail::apply_taps(vpat[t], vp.data() + r, vout[r], n);
        }
      }
      for (int r = 0; r < rows_now; ++r) {
        for (int t = 0; t < nt; ++t) {
          A* b = buf.data() + (t * R + r) * len;
          if (pad_l > 0 || pad_r > 0)
            detail::fill_pads(b, pad_l, w, c, pad_r, border, static_cast<A>(terms[t].h_cval));
          for (int k = 0; k < nh; ++k) hp[t * nh + k] = b + k * c;
          if (combine == Combine::Magnitude)
            detail::apply_taps(hpat[t], hp.data() + t * nh, comp.data() + t * n, n);
        }
        if (combine == Combine::Sum) {
          detail::apply_taps(hsum, hp.data(), out.row(y + r), n);
        } else {
          const A* g0 = comp.data();
          const A* g1 = comp.data() + n;
          detail::magnitude_row(g0, g1, out.row(y + r), n);
          if (with_dir) detail::direction_row(g0, g1, direction.row(y + r), n);
        }
      }
    }
  }, kGrainGroups);
}

// out = correlation with the row-major kernel w (kh x kw) whose centre is (ay, ax), by groups of kRows
// output rows (detail::rows_taps) when no weight is negligible, else row by row with the folded pattern.
template <class T, class A>
void run_correlate(ImageView<const T> src, ImageView<A> out, const std::vector<double>& weights, int kh, int kw,
                   int ay, int ax, Border border, double cval) {
  constexpr int R = detail::kRows;
  const TapPattern<A> pat = detail::make_pattern<A>(weights.data(), kh * kw);
  const std::vector<A> wa(weights.begin(), weights.end());
  bool shared_rows = kh >= R - 1;
  for (double x : weights) shared_rows = shared_rows && !detail::negligible(x);
  const std::ptrdiff_t h = src.height, w = src.width, c = src.channels, n = w * c;
  const std::ptrdiff_t pad_l = ax, pad_r = kw - 1 - ax;
  const int window = static_cast<int>(std::min<std::ptrdiff_t>(kh + R - 1, h));
  parallel_for((h + R - 1) / R, [&](std::ptrdiff_t g0, std::ptrdiff_t g1) {  // whole groups: see run_terms
    const std::ptrdiff_t y0 = g0 * R, y1 = std::min(h, g1 * R);
    RowSource<T, A> rows(src, border, static_cast<A>(cval), window, pad_l, pad_r);
    std::vector<const A*> base(static_cast<std::size_t>(kh + R - 1)), p(static_cast<std::size_t>(kh * kw));
    std::vector<A*> outs(R);
    for (std::ptrdiff_t y = y0; y < y1; y += R) {
      const int rows_now = static_cast<int>(std::min<std::ptrdiff_t>(R, y1 - y));
      // base[s]: source row y + s - ay, shifted so that base[s] + k * c is kernel column k's view
      rows.reserve(y - ay, kh + rows_now - 1, y);
      for (int s = 0; s < kh + rows_now - 1; ++s) base[s] = rows.row(y + s - ay, y) - ax * c;
      if (rows_now == R && shared_rows) {
        for (int r = 0; r < R; ++r) outs[r] = out.row(y + r);
        detail::rows_taps(wa.data(), kh, kw, c, base.data(), outs.data(), n);
        continue;
      }
      for (int r = 0; r < rows_now; ++r) {
        for (int j = 0; j < kh; ++j)
          for (int k = 0; k < kw; ++k) p[j * kw + k] = base[r + j] + k * c;
        detail::apply_taps(pat, p.data(), out.row(y + r), n);
      }
    }
  }, kGrainGroups);
}

// scipy's gaussian_laplace for any border but Constant with a non-zero cval: d2/drow2 then smoothing
// along the rows, plus smoothing along the columns then d2/dcol2, with the horizontal passes first. Each
// source row is filtered once by both horizontal kernels, which are symmetric and share their pair sums
// (detail::sym2_taps); a group of kRows output rows then takes both vertical passes in one detail::rows_taps
// call, the two horizontal results of a row lying side by side as the two columns of a 2-column kernel.
// (run_terms, vertical first, reads each row twice as often in its horizontal passes, the slow ones.) The
// passes commute but for rounding, except for Constant's padding of the intermediate result by cval.
template <class T, class A>
void run_log(ImageView<const T> src, ImageView<A> out, const std::vector<double>& d_row,
             const std::vector<double>& g_row, const std::vector<double>& g_col, const std::vector<double>& d_col,
             Border border) {
  constexpr int R = detail::kRows;
  const int nv = static_cast<int>(d_row.size()), rh = static_cast<int>(g_col.size() / 2), ay = nv / 2;
  const std::ptrdiff_t h = src.height, w = src.width, c = src.channels, n = w * c;
  std::vector<A> half_g(static_cast<std::size_t>(rh + 1)), half_d(half_g.size());  // centre first
  for (int k = 0; k <= rh; ++k) {
    half_g[k] = static_cast<A>(g_col[rh + k]);
    half_d[k] = static_cast<A>(d_col[rh + k]);
  }
  // Row j of the vertical kernel: d_row[j] on the smoothed row (column 0), g_row[j] on its d2/dcol2 (column 1).
  // All weights are used, zeros included (scipy's 1-D passes skip none).
  std::vector<A> wv(static_cast<std::size_t>(2 * nv));
  TapPattern<A> all;  // the same, for rows_taps' fallback (last group, nv < kRows - 1)
  for (int q = 0; q < 2 * nv; ++q) {
    wv[q] = static_cast<A>(q % 2 == 0 ? d_row[q / 2] : g_row[q / 2]);
    all.single.push_back({wv[q], q});
  }
  const bool shared_rows = nv >= R - 1;
  const int window = static_cast<int>(std::min<std::ptrdiff_t>(nv + R - 1, h));
  // A block recomputes the horizontal passes of the nv - 1 rows it shares with the next: blocks of at least
  // 8 (nv - 1) rows keep that under 1/8 of the work.
  const std::ptrdiff_t grain = std::max<std::ptrdiff_t>(kGrainGroups, 8 * (nv - 1) / R);
  // A slot of the row cache holds the two horizontal results of a row, the second `half` values after the
  // first. The vertical pass reads 2 (nv + kRows - 1) of them at once, column by column: with rows a multiple
  // of 4 KiB apart they all fall in one set of the L1 cache, which then holds 8 of them (time x1.4 on AMD
  // Zen 3). `half` is made 64 bytes more than a multiple of 4 KiB, so that they fall in distinct sets.
  std::ptrdiff_t half = (n + 15) / 16 * 16;
  constexpr std::ptrdiff_t kPage = 4096 / sizeof(A), kLine = 64 / sizeof(A);
  if (half >= kPage) half += (kLine - half % kPage + kPage) % kPage;
  parallel_for((h + R - 1) / R, [&](std::ptrdiff_t g0, std::ptrdiff_t g1) {
    const std::ptrdiff_t y0 = g0 * R, y1 = std::min(h, g1 * R);
    // store: `window` slots of two horizontal results, tagged by source row, evicted least recent first
    std::vector<A> padded(static_cast<std::size_t>((2 * rh + w) * c));
    std::vector<A> store(static_cast<std::size_t>(window * 2 * half));
    const std::vector<A> zeros(static_cast<std::size_t>(2 * half), A(0));  // rows outside, Constant (cval 0)
    std::vector<std::ptrdiff_t> tag(static_cast<std::size_t>(window), -1), stamp(tag.size(), -1);
    auto filtered = [&](std::ptrdiff_t vy, std::ptrdiff_t now) -> const A* {
      const std::ptrdiff_t sy = detail::border_index(vy, h, border);
      if (sy < 0) return zeros.data();
      int victim = -1;
      for (int s = 0; s < window; ++s) {
        if (tag[s] == sy) {
          stamp[s] = now;
          return store.data() + s * 2 * half;
        }
        if (stamp[s] < now && (victim < 0 || stamp[s] < stamp[victim])) victim = s;
      }
      // `window` slots hold every row of the current group (the ones kept are stamped first), so a victim exists.
      A* row = padded.data() + rh * c;
      detail::convert_row(src.row(sy), row, n);
      detail::fill_pads(padded.data(), rh, w, c, rh, border, A(0));
      A* dst = store.data() + victim * 2 * half;
      detail::sym2_taps(row, c, half_g.data(), half_d.data(), rh, dst, dst + half, n);
      tag[victim] = sy;
      stamp[victim] = now;
      return dst;
    };
    std::vector<const A*> vp(static_cast<std::size_t>(nv + R - 1)), p(static_cast<std::size_t>(2 * nv));
    std::vector<A*> outs(R);
    for (std::ptrdiff_t y = y0; y < y1; y += R) {
      const int rows_now = static_cast<int>(std::min<std::ptrdiff_t>(R, y1 - y));
      const int need = nv + rows_now - 1;
      for (int j = 0; j < need; ++j) {  // keep the cached rows this group needs
        const std::ptrdiff_t sy = detail::border_index(y + j - ay, h, border);
        for (int s = 0; s < window && sy >= 0; ++s)
          if (tag[s] == sy) stamp[s] = y;
      }
      for (int j = 0; j < need; ++j) vp[j] = filtered(y + j - ay, y);
      if (rows_now == R && shared_rows) {
        for (int r = 0; r < R; ++r) outs[r] = out.row(y + r);
        detail::rows_taps(wv.data(), nv, 2, half, vp.data(), outs.data(), n);
        continue;
      }
      for (int r = 0; r < rows_now; ++r) {
        for (int q = 0; q < 2 * nv; ++q) p[q] = vp[r + q / 2] + (q % 2) * half;
        detail::apply_taps(all, p.data(), out.row(y + r), n);
      }
    }
  }, grain);
}

constexpr double kMaxRadius = 1 << 20;

std::ptrdiff_t gaussian_radius(double sigma, double truncate) {
  const double r = truncate * sigma + 0.5;
  if (r > kMaxRadius)
    throw InvalidArgument("`sigma` * `truncate` must give a kernel radius <= " + std::to_string(1 << 20) +
                          "; got sigma " + detail::format_number(sigma) + ", truncate " + detail::format_number(truncate));
  return static_cast<std::ptrdiff_t>(r);
}

std::vector<double> gaussian_or_identity(double sigma, double truncate) {
  if (sigma == 0) return {1.0};
  return gaussian_kernel(sigma, truncate, 0);
}

const double kSobelSmooth[3] = {0.25, 0.5, 0.25};
const double kScharrSmooth[3] = {3.0 / 16, 10.0 / 16, 3.0 / 16};
const double kDiff[3] = {-1.0, 0.0, 1.0};  // correlation form of scikit-image's convolution with [1, 0, -1]

}  // namespace

// ---- public API -----------------------------------------------------------------------------------------

std::vector<double> gaussian_kernel(double sigma, double truncate, int order) {
  check_sigma(sigma, "sigma", false);
  check_truncate(truncate);
  if (order < 0 || order > 2)
    throw InvalidArgument("`order` must be 0, 1 or 2; got " + std::to_string(order));
  const std::ptrdiff_t r = gaussian_radius(sigma, truncate);
  const double s2 = sigma * sigma;
  std::vector<double> k(static_cast<std::size_t>(2 * r + 1));
  double sum = 0;
  for (std::ptrdiff_t x = -r; x <= r; ++x) {
    const double t = static_cast<double>(x) / sigma;  // not x^2 / sigma^2: sigma^2 underflows to 0 for sigma < 1e-162
    const double v = std::exp(-0.5 * t * t);
    k[x + r] = v;
    sum += v;
  }
  for (double& v : k) v /= sum;
  if (order == 1) {  // d/dx: -x / s2 * phi, reversed for correlation
    for (std::ptrdiff_t x = -r; x <= r; ++x) k[x + r] *= -static_cast<double>(x) / s2;
    std::vector<double> rev(k.rbegin(), k.rend());
    k.swap(rev);
  } else if (order == 2) {  // d2/dx2: (x^2 / s2^2 - 1 / s2) * phi
    for (std::ptrdiff_t x = -r; x <= r; ++x) k[x + r] *= static_cast<double>(x * x) / (s2 * s2) - 1.0 / s2;
  }
  for (const double v : k)  // a derivative of a very narrow Gaussian (1 / sigma^2 overflows) has no finite kernel
    if (!std::isfinite(v))
      throw InvalidArgument("`sigma` " + detail::format_number(sigma) + " is too small for a derivative of order " +
                            std::to_string(order) + ": its kernel is not finite (1 / sigma^2 overflows)");
  return k;
}

template <class T, class O>
void correlate_into(ImageView<const T> src, ImageView<O> out, ImageView<const double> weights, Border border,
                    double cval) {
  check_io(src, out);
  const std::vector<double> w = kernel_2d(weights);
  const int kh = static_cast<int>(weights.height), kw = static_cast<int>(weights.width);
  run_correlate<T, O>(src, out, w, kh, kw, kh / 2, kw / 2, border, cval);
}

template <class T, class O>
void convolve_into(ImageView<const T> src, ImageView<O> out, ImageView<const double> weights, Border border,
                   double cval) {
  check_io(src, out);
  std::vector<double> w = kernel_2d(weights);
  std::vector<double> flipped(w.rbegin(), w.rend());  // row-major reversal flips both axes
  const int kh = static_cast<int>(weights.height), kw = static_cast<int>(weights.width);
  run_correlate<T, O>(src, out, flipped, kh, kw, (kh - 1) / 2, (kw - 1) / 2, border, cval);
}

template <class T, class O>
void separable_into(ImageView<const T> src, ImageView<O> out, const std::vector<double>& row_kernel,
                    const std::vector<double>& col_kernel, Border border, double cval) {
  check_io(src, out);
  check_kernel(row_kernel.data(), static_cast<std::ptrdiff_t>(row_kernel.size()), "row_kernel");
  check_kernel(col_kernel.data(), static_cast<std::ptrdiff_t>(col_kernel.size()), "col_kernel");
  double col_sum = 0;
  for (double v : col_kernel) col_sum += v;
  // Outside the image, a whole column of the 2-D kernel sees cval: its vertical pass gives cval * sum.
  run_terms<T, O>(src, out, {}, {Term{col_kernel, row_kernel, cval * col_sum}}, border, cval, Combine::Sum);
}

template <class T, class O>
void gaussian_into(ImageView<const T> src, ImageView<O> out, double sigma_row, double sigma_col, Border border,
                   double cval, double truncate) {
  check_io(src, out);
  check_sigma(sigma_row, "sigma_row", true);
  check_sigma(sigma_col, "sigma_col", true);
  check_truncate(truncate);
  // scipy filters axis 0 then axis 1, each pass padding with cval: the horizontal pass pads with cval.
  Term t{gaussian_or_identity(sigma_row, truncate), gaussian_or_identity(sigma_col, truncate), cval};
  run_terms<T, O>(src, out, {}, {t}, border, cval, Combine::Sum);
}

template <class T, class O>
void uniform_into(ImageView<const T> src, ImageView<O> out, int size_row, int size_col, Border border,
                  double cval) {
  check_io(src, out);
  for (auto [size, name] : {std::pair{size_row, "size_row"}, std::pair{size_col, "size_col"}})
    if (size < 1 || size > 2 * kMaxRadius + 1)
      throw InvalidArgument(std::string("`") + name + "` must be in [1, " + std::to_string(2 * (1 << 20) + 1) +
                            "]; got " + std::to_string(size));
  Term t{std::vector<double>(static_cast<std::size_t>(size_row), 1.0 / size_row),
         std::vector<double>(static_cast<std::size_t>(size_col), 1.0 / size_col), cval};
  run_terms<T, O>(src, out, {}, {t}, border, cval, Combine::Sum);
}

template <class T, class O>
void laplace_into(ImageView<const T> src, ImageView<O> out, Border border, double cval) {
  check_io(src, out);
  // Both second differences touch only their own axis, so the 5-point cross kernel is exact for every
  // border, Constant included.
  const std::vector<double> cross = {0, 1, 0, 1, -4, 1, 0, 1, 0};
  run_correlate<T, O>(src, out, cross, 3, 3, 1, 1, border, cval);
}

template <class T, class O>
void gaussian_laplace_into(ImageView<const T> src, ImageView<O> out, double sigma_row, double sigma_col,
                           Border border, double cval, double truncate) {
  check_io(src, out);
  check_sigma(sigma_row, "sigma_row", false);
  check_sigma(sigma_col, "sigma_col", false);
  check_truncate(truncate);
  std::vector<double> g_row = gaussian_kernel(sigma_row, truncate, 0);
  std::vector<double> d_row = gaussian_kernel(sigma_row, truncate, 2);
  std::vector<double> g_col = gaussian_kernel(sigma_col, truncate, 0);
  std::vector<double> d_col = gaussian_kernel(sigma_col, truncate, 2);
  if (border != Border::Constant || cval == 0) {
    run_log<T, O>(src, out, d_row, g_row, g_col, d_col, border);
    return;
  }
  // scipy: d2/drow^2 (axis 0) then smoothing (axis 1), plus smoothing (axis 0) then d2/dcol^2 (axis 1);
  // each pass pads with cval.
  run_terms<T, O>(src, out, {}, {Term{d_row, g_col, cval}, Term{g_row, d_col, cval}}, border, cval,
                  Combine::Sum);
}

template <class T, class O>
void edge_filter_into(ImageView<const T> src, ImageView<O> out, ImageView<O> direction, EdgeOperator op,
                      EdgeOutput which, Border border, double cval) {
  check_io(src, out);
  if (!direction.empty()) {
    if (which != EdgeOutput::Magnitude)
      throw InvalidArgument("`direction` can only be computed with the magnitude");
    detail::require_same_shape(src, direction, "image", "direction");
    detail::require_no_overlap(src, direction, "image", "direction");
    detail::require_no_overlap(out, direction, "out", "direction");
  }
  const double* s = op == EdgeOperator::Sobel ? kSobelSmooth : kScharrSmooth;
  const std::vector<double> smooth(s, s + 3), diff(kDiff, kDiff + 3);
  // skimage convolves the 2-D kernel (pixels outside are cval): a column outside sees cval * sum(vertical).
  const Term g_row{diff, smooth, 0.0};          // derivative along axis 0, smoothed along axis 1
  const Term g_col{smooth, diff, cval * 1.0};   // smoothed along axis 0, derivative along axis 1
  switch (which) {
    case EdgeOutput::Row:
      run_terms<T, O>(src, out, {}, {g_row}, border, cval, Combine::Sum);
      break;
    case EdgeOutput::Col:
      run_terms<T, O>(src, out, {}, {g_col}, border, cval, Combine::Sum);
      break;
    case EdgeOutput::Magnitude:
      run_terms<T, O>(src, out, direction, {g_row, g_col}, border, cval, Combine::Magnitude);
      break;
  }
}

// Sobel and Scharr differ only by their operator.
#define SEGEN_EDGE_FILTER(name, op)                                                                          \
  template <class T, class O>                                                                                \
  void name##_into(ImageView<const T> src, ImageView<O> out, Border border, double cval) {                   \
    edge_filter_into<T, O>(src, out, {}, EdgeOperator::op, EdgeOutput::Magnitude, border, cval);             \
  }                                                                                                          \
  template <class T, class O>                                                                                \
  void name##_into(ImageView<const T> src, ImageView<O> magnitude, ImageView<O> direction, Border border,    \
                   double cval) {                                                                            \
    edge_filter_into<T, O>(src, magnitude, direction, EdgeOperator::op, EdgeOutput::Magnitude, border, cval); \
  }                                                                                                          \
  template <class T, class O>                                                                                \
  void name##_h_into(ImageView<const T> src, ImageView<O> out, Border border, double cval) {                 \
    edge_filter_into<T, O>(src, out, {}, EdgeOperator::op, EdgeOutput::Row, border, cval);                   \
  }                                                                                                          \
  template <class T, class O>                                                                                \
  void name##_v_into(ImageView<const T> src, ImageView<O> out, Border border, double cval) {                 \
    edge_filter_into<T, O>(src, out, {}, EdgeOperator::op, EdgeOutput::Col, border, cval);                   \
  }
SEGEN_EDGE_FILTER(sobel, Sobel)
SEGEN_EDGE_FILTER(scharr, Scharr)
#undef SEGEN_EDGE_FILTER

// ---- value-returning forms ----------------------------------------------------------------------------

namespace {
template <class T>
Image<filter_output_t<T>> like(ImageView<const T> src) {
  detail::require_nonempty(src, "image");
  return Image<filter_output_t<T>>(src.height, src.width, src.channels);
}
}  // namespace

template <class T>
Image<filter_output_t<T>> correlate(ImageView<const T> src, ImageView<const double> weights, Border border,
                                   double cval) {
  auto out = like(src);
  correlate_into<T, filter_output_t<T>>(src, out.view(), weights, border, cval);
  return out;
}
template <class T>
Image<filter_output_t<T>> convolve(ImageView<const T> src, ImageView<const double> weights, Border border,
                                  double cval) {
  auto out = like(src);
  convolve_into<T, filter_output_t<T>>(src, out.view(), weights, border, cval);
  return out;
}
template <class T>
Image<filter_output_t<T>> separable(ImageView<const T> src, const std::vector<double>& row_kernel,
                                   const std::vector<double>& col_kernel, Border border, double cval) {
  auto out = like(src);
  separable_into<T, filter_output_t<T>>(src, out.view(), row_kernel, col_kernel, border, cval);
  return out;
}
template <class T>
Image<filter_output_t<T>> gaussian(ImageView<const T> src, double sigma_row, double sigma_col, Border border,
                                  double cval, double truncate) {
  auto out = like(src);
  gaussian_into<T, filter_output_t<T>>(src, out.view(), sigma_row, sigma_col, border, cval, truncate);
  return out;
}
template <class T>
Image<filter_output_t<T>> uniform(ImageView<const T> src, int size_row, int size_col, Border border, double cval) {
  auto out = like(src);
  uniform_into<T, filter_output_t<T>>(src, out.view(), size_row, size_col, border, cval);
  return out;
}
template <class T>
Image<filter_output_t<T>> laplace(ImageView<const T> src, Border border, double cval) {
  auto out = like(src);
  laplace_into<T, filter_output_t<T>>(src, out.view(), border, cval);
  return out;
}
template <class T>
Image<filter_output_t<T>> gaussian_laplace(ImageView<const T> src, double sigma_row, double sigma_col,
                                          Border border, double cval, double truncate) {
  auto out = like(src);
  gaussian_laplace_into<T, filter_output_t<T>>(src, out.view(), sigma_row, sigma_col, border, cval, truncate);
  return out;
}

// The six edge filters' value forms differ only by name.
#define SEGEN_EDGE_VALUE_FORM(name)                                                  \
  template <class T>                                                                 \
  Image<filter_output_t<T>> name(ImageView<const T> src, Border border, double cval) { \
    auto out = like(src);                                                            \
    name##_into<T, filter_output_t<T>>(src, out.view(), border, cval);               \
    return out;                                                                      \
  }
SEGEN_EDGE_VALUE_FORM(sobel)
SEGEN_EDGE_VALUE_FORM(sobel_h)
SEGEN_EDGE_VALUE_FORM(sobel_v)
SEGEN_EDGE_VALUE_FORM(scharr)
SEGEN_EDGE_VALUE_FORM(scharr_h)
SEGEN_EDGE_VALUE_FORM(scharr_v)
#undef SEGEN_EDGE_VALUE_FORM

// ---- explicit instantiations ---------------------------------------------------------------------------

#define SEGEN_INSTANTIATE(T)                                                                                   \
  template SEGEN_API void correlate_into<T, filter_output_t<T>>(ImageView<const T>, ImageView<filter_output_t<T>>, \
                                                                ImageView<const double>, Border, double);      \
  template SEGEN_API Image<filter_output_t<T>> correlate<T>(ImageView<const T>, ImageView<const double>, Border, \
                                                            double);                                           \
  template SEGEN_API void convolve_into<T, filter_output_t<T>>(ImageView<const T>, ImageView<filter_output_t<T>>, \
                                                               ImageView<const double>, Border, double);       \
  template SEGEN_API Image<filter_output_t<T>> convolve<T>(ImageView<const T>, ImageView<const double>, Border, \
                                                           double);                                            \
  template SEGEN_API void separable_into<T, filter_output_t<T>>(                                               \
      ImageView<const T>, ImageView<filter_output_t<T>>, const std::vector<double>&, const std::vector<double>&, \
      Border, double);                                                                                         \
  template SEGEN_API Image<filter_output_t<T>> separable<T>(ImageView<const T>, const std::vector<double>&,    \
                                                            const std::vector<double>&, Border, double);       \
  template SEGEN_API void gaussian_into<T, filter_output_t<T>>(ImageView<const T>, ImageView<filter_output_t<T>>, \
                                                               double, double, Border, double, double);        \
  template SEGEN_API Image<filter_output_t<T>> gaussian<T>(ImageView<const T>, double, double, Border, double, \
                                                           double);                                            \
  template SEGEN_API void uniform_into<T, filter_output_t<T>>(ImageView<const T>, ImageView<filter_output_t<T>>, \
                                                              int, int, Border, double);                       \
  template SEGEN_API Image<filter_output_t<T>> uniform<T>(ImageView<const T>, int, int, Border, double);       \
  template SEGEN_API void laplace_into<T, filter_output_t<T>>(ImageView<const T>, ImageView<filter_output_t<T>>, \
                                                              Border, double);                                 \
  template SEGEN_API Image<filter_output_t<T>> laplace<T>(ImageView<const T>, Border, double);                 \
  template SEGEN_API void gaussian_laplace_into<T, filter_output_t<T>>(                                        \
      ImageView<const T>, ImageView<filter_output_t<T>>, double, double, Border, double, double);              \
  template SEGEN_API Image<filter_output_t<T>> gaussian_laplace<T>(ImageView<const T>, double, double, Border, \
                                                                   double, double);                            \
  template SEGEN_API void edge_filter_into<T, filter_output_t<T>>(ImageView<const T>,                          \
                                                                  ImageView<filter_output_t<T>>,               \
                                                                  ImageView<filter_output_t<T>>, EdgeOperator, \
                                                                  EdgeOutput, Border, double);                 \
  SEGEN_INSTANTIATE_EDGE(T, sobel)                                                                             \
  SEGEN_INSTANTIATE_EDGE(T, scharr)

#define SEGEN_INSTANTIATE_EDGE(T, name)                                                                        \
  template SEGEN_API void name##_into<T, filter_output_t<T>>(ImageView<const T>, ImageView<filter_output_t<T>>, \
                                                             Border, double);                                  \
  template SEGEN_API void name##_into<T, filter_output_t<T>>(ImageView<const T>, ImageView<filter_output_t<T>>, \
                                                             ImageView<filter_output_t<T>>, Border, double);   \
  template SEGEN_API Image<filter_output_t<T>> name<T>(ImageView<const T>, Border, double);                    \
  template SEGEN_API void name##_h_into<T, filter_output_t<T>>(ImageView<const T>,                             \
                                                               ImageView<filter_output_t<T>>, Border, double); \
  template SEGEN_API Image<filter_output_t<T>> name##_h<T>(ImageView<const T>, Border, double);                \
  template SEGEN_API void name##_v_into<T, filter_output_t<T>>(ImageView<const T>,                             \
                                                               ImageView<filter_output_t<T>>, Border, double); \
  template SEGEN_API Image<filter_output_t<T>> name##_v<T>(ImageView<const T>, Border, double);

SEGEN_FOR_PIXEL_TYPES(SEGEN_INSTANTIATE)
#undef SEGEN_INSTANTIATE
#undef SEGEN_INSTANTIATE_EDGE

}  // namespace segen
