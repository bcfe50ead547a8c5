#pragma once
// Private building blocks of features.cpp: aligned scratch buffers, border-extended rows and the FIR inner
// loops on detail/simd.hpp's vectors. Everything here is inlined into the per-CPU-level copies of
// features.cpp's hot loops (detail/dispatch.hpp); nothing is exported.

#include <algorithm>  // std::min
#include <cmath>    // std::exp
#include <cstddef>  // std::ptrdiff_t, std::size_t
#include <cstdlib>  // std::free
#include <cstring>  // std::memcpy
#include <new>      // std::bad_alloc
#include <type_traits>  // std::integral_constant
#include <utility>  // std::swap
#include <vector>   // std::vector

#include "detail/common.hpp"
#include "detail/simd.hpp"  // vec_t, vload, vstore

namespace segen::detail {

/// Width of every scratch row: a multiple of kRowBlock elements, so the FIR loops never need a tail.
constexpr std::ptrdiff_t kRowBlock = 128;
inline std::ptrdiff_t padded_width(std::ptrdiff_t w) { return (w + kRowBlock - 1) / kRowBlock * kRowBlock; }
/// Row stride of scratch planes that vertical FIRs read: the padded width plus one cache line, so that the
/// rows of a column strip do not all map to the same L1 set (a 4 KiB stride would).
template <class F>
std::ptrdiff_t plane_stride(std::ptrdiff_t w) {
  return padded_width(w) + static_cast<std::ptrdiff_t>(64 / sizeof(F));
}

/// A 64-byte aligned array, zero-initialised unless asked otherwise (not copyable).
template <class F>
class Buffer {
 public:
  Buffer() = default;
  explicit Buffer(std::size_t n, bool zero = true) { reset(n, zero); }
  Buffer(Buffer&& o) noexcept : p_(o.p_), n_(o.n_) { o.p_ = nullptr, o.n_ = 0; }
  Buffer& operator=(Buffer&& o) noexcept {
    std::swap(p_, o.p_);
    std::swap(n_, o.n_);
    return *this;
  }
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;
  ~Buffer() { std::free(p_); }
  void reset(std::size_t n, bool zero = true) {
    std::free(p_);
    p_ = nullptr;
    n_ = n;
    if (n == 0) return;
    const std::size_t bytes = (n * sizeof(F) + 63) / 64 * 64;
    p_ = static_cast<F*>(std::aligned_alloc(64, bytes));
    if (!p_) throw std::bad_alloc();
    if (zero) std::memset(static_cast<void*>(p_), 0, bytes);
  }
  F* data() { return p_; }
  const F* data() const { return p_; }
  F& operator[](std::size_t i) { return p_[i]; }
  std::size_t size() const { return n_; }

 private:
  F* p_ = nullptr;
  std::size_t n_ = 0;
};

/// Kernels are passed to the FIR loops "splatted": weight t repeated kSplat<F> times (a 64-byte group) at
/// [t * kSplat, (t + 1) * kSplat), so a broadcast is a plain vector load of any width up to 64 bytes (GCC
/// builds poor broadcasts from vector initialisers).
template <class F>
constexpr int kSplat = 64 / static_cast<int>(sizeof(F));

template <class F>
std::vector<F> splat(const std::vector<F>& h) {
  constexpr int S = kSplat<F>;
  std::vector<F> s(h.size() * S);
  for (std::size_t t = 0; t < h.size(); ++t)
    for (int l = 0; l < S; ++l) s[t * S + static_cast<std::size_t>(l)] = h[t];
  return s;
}

// ---- FIR loops (n a multiple of the block each states; inputs readable up to n - 1 + taps - 1) -------

/// How cfir_row stores its sums.
enum class Store { Set, Add, Rotate };

/// Complex FIR of a real row, hr / hi splatted, n a multiple of 4 * lanes: with s[c] = sum_t in[c + t] *
/// (hr[t] + i hi[t]), (re, im)[c] = s[c] (Store::Set), += s[c] (Store::Add), or = s[c] * (cr + i ci)
/// (Store::Rotate).
template <class F, Store Mode, int B = 32>
SEGEN_ALWAYS_INLINE void cfir_row(const F* in, const F* hr, const F* hi, int taps, F* re, F* im, std::ptrdiff_t n, F cr = 1,
                           F ci = 0) {
  using V = vec_t<F, B>;
  constexpr int L = Vec<F, B>::lanes, S = kSplat<F>;
  for (std::ptrdiff_t c = 0; c < n; c += 4 * L) {
    V r[4] = {}, i[4] = {};
    if constexpr (Mode == Store::Add) {
      for (int k = 0; k < 4; ++k) r[k] = vload<F, B>(re + c + k * L), i[k] = vload<F, B>(im + c + k * L);
    }
    const F* p = in + c;
    for (int t = 0; t < taps; ++t, ++p) {
      const V a = vload<F, B>(hr + t * S), b = vload<F, B>(hi + t * S);
      const V x0 = vload<F, B>(p), x1 = vload<F, B>(p + L), x2 = vload<F, B>(p + 2 * L), x3 = vload<F, B>(p + 3 * L);
      r[0] += a * x0, r[1] += a * x1, r[2] += a * x2, r[3] += a * x3;
      i[0] += b * x0, i[1] += b * x1, i[2] += b * x2, i[3] += b * x3;
    }
    for (int k = 0; k < 4; ++k) {
      if constexpr (Mode == Store::Rotate) {
        vstore<F, B>(re + c + k * L, cr * r[k] - ci * i[k]);
        vstore<F, B>(im + c + k * L, cr * i[k] + ci * r[k]);
      } else {
        vstore<F, B>(re + c + k * L, r[k]);
        vstore<F, B>(im + c + k * L, i[k]);
      }
    }
  }
}

/// Keep a loaded vector in a register (Pin: AVX2 / AVX-512 code only): GCC otherwise folds the load into
/// both the add and the subtract that use it, loading every sample twice where loads bound the loop.
template <bool Pin, class V>
SEGEN_ALWAYS_INLINE void in_register(V& v) {
#if SEGEN_HAVE_VECTOR_EXT && defined(__GNUC__)
  if constexpr (Pin) asm("" : "+v"(v));
#else
  (void)v;
#endif
}

/// cfir_row's Store::Rotate for a kernel of 2 half + 1 taps whose real part is even and imaginary part odd
/// about the centre tap (hr[t] == hr[2 half - t], hi[t] == -hi[2 half - t], hi[half] == 0), as the
/// separable Gabor's row kernel is: the taps t and 2 half - t share one multiply-add per part, on the sum
/// and the difference of their two samples, which halves the multiply-adds (sums and differences run on
/// the adders). n a multiple of 4 * lanes.
template <class F, int B = 32, bool Pin = false>
SEGEN_ALWAYS_INLINE void cfir_row_sym(const F* in, const F* hr, const F* hi, int half, F* re, F* im, std::ptrdiff_t n, F cr,
                               F ci) {
  using V = vec_t<F, B>;
  constexpr int L = Vec<F, B>::lanes, S = kSplat<F>;
  for (std::ptrdiff_t c = 0; c < n; c += 4 * L) {
    V r[4] = {}, i[4] = {};
    const F* p = in + c;
    const F* q = in + c + 2 * half;
    for (int t = 0; t < half; ++t, ++p, --q) {
      const V a = vload<F, B>(hr + t * S), b = vload<F, B>(hi + t * S);
      for (int k = 0; k < 4; ++k) {
        V xp = vload<F, B>(p + k * L), xq = vload<F, B>(q + k * L);
        in_register<Pin>(xp), in_register<Pin>(xq);
        r[k] += a * (xp + xq);
        i[k] += b * (xp - xq);
      }
    }
    const V a = vload<F, B>(hr + half * S);  // p is now the centre
    for (int k = 0; k < 4; ++k) r[k] += a * vload<F, B>(p + k * L);
    for (int k = 0; k < 4; ++k) {
      vstore<F, B>(re + c + k * L, cr * r[k] - ci * i[k]);
      vstore<F, B>(im + c + k * L, cr * i[k] + ci * r[k]);
    }
  }
}

/// Real FIR of a row: out[c] = sum_t in[c + t] * h[t] (h splatted; n a multiple of 8 * lanes).
template <class F, int B = 32>
SEGEN_ALWAYS_INLINE void fir_row(const F* in, const F* h, int taps, F* out, std::ptrdiff_t n) {
  using V = vec_t<F, B>;
  constexpr int L = Vec<F, B>::lanes, S = kSplat<F>;
  for (std::ptrdiff_t c = 0; c < n; c += 8 * L) {
    V a[8];
    for (int k = 0; k < 8; ++k) a[k] = V{};
    const F* p = in + c;
    for (int t = 0; t < taps; ++t, ++p) {
      const V w = vload<F, B>(h + t * S);
      for (int k = 0; k < 8; ++k) a[k] += w * vload<F, B>(p + k * L);
    }
    for (int k = 0; k < 8; ++k) vstore<F, B>(out + c + k * L, a[k]);
  }
}

/// Symmetric vertical FIRs: the taps h[0, 2 half] satisfy h[t] == h[2 half - t] (Gaussians), so each output
/// pairs the rows t and 2 half - t: one add and one multiply-add per pair instead of two multiply-adds (the
/// adds run on their own ports). `g` holds h[0, half] splatted. Two streams a and b (two planes, or two
/// column strips of one plane) share the taps; input row q of stream a is rows[q], of b rows[q] + boff
/// (a row table, so that the rows may sit in a ring). For output row i of a block, at column c,
///   oa[i * out_stride] = h[half] a[i + half] + sum_{u = 1 .. half} h[half - u] (a[i + half - u] + a[i + half + u])
/// summed in that order (centre first, then outwards) for every row, so the result does not depend on how
/// rows are blocked; ob likewise from b. A block of M rows keeps two sliding windows of M rows per stream in
/// registers (rings indexed by row mod M), so each tap pair loads two rows per stream for M outputs. The
/// windows start on the centre rows, which the previous block loaded, and end on the block's lowest rows,
/// the ones new to the cache.
#if defined(__GNUC__)
#define SEGEN_ALWAYS_INLINE_LAMBDA __attribute__((always_inline))
#else
#define SEGEN_ALWAYS_INLINE_LAMBDA
#endif
template <int M, class F, int B>
SEGEN_ALWAYS_INLINE void col_sym_block(const F* const* rows, std::ptrdiff_t c, std::ptrdiff_t boff, const F* g, int half,
                                       F* da, F* db, std::ptrdiff_t out_stride) {
  using V = vec_t<F, B>;
  constexpr int S = kSplat<F>;
  const std::ptrdiff_t h = half;
  V la[M], lb[M], ra[M], rb[M], sa[M], sb[M];
  // At step u the left window holds rows h - u + m in slot (m - u) mod M, the right one rows h + u + m in
  // slot (m + u) mod M; at u = 0 both hold the centre rows h + m in slot m.
  {
    const V w = vload<F, B>(g + h * S);
    for (int m = 0; m < M; ++m) {
      la[m] = ra[m] = vload<F, B>(rows[h + m] + c);
      lb[m] = rb[m] = vload<F, B>(rows[h + m] + c + boff);
      sa[m] = w * la[m], sb[m] = w * lb[m];
    }
  }
  auto step = [&](auto rc, std::ptrdiff_t u) SEGEN_ALWAYS_INLINE_LAMBDA {
    constexpr int r = decltype(rc)::value;  // u mod M
    constexpr int nl = (M - r) % M, nr = (M - 1 + r) % M;
    la[nl] = vload<F, B>(rows[h - u] + c), lb[nl] = vload<F, B>(rows[h - u] + c + boff);
    ra[nr] = vload<F, B>(rows[h + u + M - 1] + c), rb[nr] = vload<F, B>(rows[h + u + M - 1] + c + boff);
    const V w = vload<F, B>(g + (h - u) * S);
    for (int m = 0; m < M; ++m) {
      sa[m] += w * (la[(m + M - r) % M] + ra[(m + r) % M]);
      sb[m] += w * (lb[(m + M - r) % M] + rb[(m + r) % M]);
    }
  };
  using I0 = std::integral_constant<int, 0>;
  using I1 = std::integral_constant<int, 1 % M>;
  using I2 = std::integral_constant<int, 2 % M>;
  using I3 = std::integral_constant<int, 3 % M>;
  static_assert(M == 1 || M == 2 || M == 4, "blocks of 1, 2 or 4 rows");
  std::ptrdiff_t u = 1;
  for (; u + M - 1 <= h; u += M) {  // u == 1 mod M here
    if constexpr (M == 4)
      step(I1{}, u), step(I2{}, u + 1), step(I3{}, u + 2), step(I0{}, u + 3);
    else if constexpr (M == 2)
      step(I1{}, u), step(I0{}, u + 1);
    else
      step(I0{}, u);
  }
  const std::ptrdiff_t rem = h + 1 - u;  // < M steps left
  if (rem > 0) step(I1{}, u);
  if (rem > 1) step(I2{}, u + 1);
  if (rem > 2) step(I3{}, u + 2);
  for (int m = 0; m < M; ++m) vstore<F, B>(da + m * out_stride, sa[m]), vstore<F, B>(db + m * out_stride, sb[m]);
}

#undef SEGEN_ALWAYS_INLINE_LAMBDA

/// Vertical symmetric FIR (see col_sym_block) of the rows rows[0, nrows + 2 half): stream a is the rows
/// themselves, stream b the same rows offset by `boff` elements (a second plane) -> oa and ob; or, with
/// ob null, one plane whose passes cover two adjacent column strips (b = a + lanes -> oa + lanes).
/// n a multiple of 2 * lanes.
template <class F, int B = 32>
SEGEN_ALWAYS_INLINE void fir_col_sym(const F* const* rows, std::ptrdiff_t boff, const F* g, int half, F* oa, F* ob,
                                     std::ptrdiff_t out_stride, std::ptrdiff_t nrows, std::ptrdiff_t n) {
  constexpr int M = B >= 64 ? 4 : 2;  // 4 rows x 2 streams x 3 vectors fit 32 zmm registers; 2 rows fit 16
  constexpr std::ptrdiff_t L = Vec<F, B>::lanes;
  const bool one = ob == nullptr;
  const std::ptrdiff_t step = one ? 2 * L : L;
  if (one) boff = L, ob = oa + L;
  for (std::ptrdiff_t c = 0; c < n; c += step) {
    std::ptrdiff_t i = 0;
    for (; i + M <= nrows; i += M)
      col_sym_block<M, F, B>(rows + i, c, boff, g, half, oa + i * out_stride + c, ob + i * out_stride + c, out_stride);
    for (; i < nrows; ++i)
      col_sym_block<1, F, B>(rows + i, c, boff, g, half, oa + i * out_stride + c, ob + i * out_stride + c, out_stride);
  }
}

// ---- rows with a border ---------------------------------------------------------------------------

/// Fill ext[0, n_ext) with channel `ch` of source row `src` (width w, `channels` interleaved) extended by
/// `r` samples on the left following `border`: ext[k] = src[border_index(k - r)], cval outside for
/// Border::Constant, 0 past w + r (columns no output needs).
template <class F, class T>
SEGEN_ALWAYS_INLINE void extend_row(const T* src, std::ptrdiff_t w, std::ptrdiff_t channels, std::ptrdiff_t ch,
                             std::ptrdiff_t r, Border border, F cval, F* ext, std::ptrdiff_t n_ext) {
  const std::ptrdiff_t stop = std::min(n_ext, w + 2 * r);
  for (std::ptrdiff_t k = 0; k < std::min(r, stop); ++k) {
    const std::ptrdiff_t i = border_index(k - r, w, border);
    ext[k] = i < 0 ? cval : static_cast<F>(src[i * channels + ch]);
  }
  F* mid = ext + r;
  if (channels == 1) {
    for (std::ptrdiff_t x = 0; x < w; ++x) mid[x] = static_cast<F>(src[x]);
  } else {
    for (std::ptrdiff_t x = 0; x < w; ++x) mid[x] = static_cast<F>(src[x * channels + ch]);
  }
  for (std::ptrdiff_t k = r + w; k < stop; ++k) {
    const std::ptrdiff_t i = border_index(k - r, w, border);
    ext[k] = i < 0 ? cval : static_cast<F>(src[i * channels + ch]);
  }
  for (std::ptrdiff_t k = stop; k < n_ext; ++k) ext[k] = F(0);
}

/// scipy.ndimage's Gaussian kernel: radius int(truncate * sigma + 0.5), weights exp(-x^2 / (2 sigma^2))
/// normalised to sum 1 (in double).
inline std::vector<double> gaussian_weights(double sigma, double truncate) {
  const auto radius = static_cast<std::ptrdiff_t>(truncate * sigma + 0.5);
  std::vector<double> w(static_cast<std::size_t>(2 * radius + 1));
  if (radius == 0) {
    w[0] = 1.0;
    return w;
  }
  double sum = 0;
  for (std::ptrdiff_t x = -radius; x <= radius; ++x) {
    const double v = std::exp(-0.5 / (sigma * sigma) * static_cast<double>(x * x));
    w[static_cast<std::size_t>(x + radius)] = v;
    sum += v;
  }
  for (double& v : w) v /= sum;
  return w;
}

}  // namespace segen::detail
