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

/// cfir_row's Store::Rotate for a kernel of 2 half + 1 taps whose real part is even and imaginary part odd
/// about the centre tap (hr[t] == hr[2 half - t], hi[t] == -hi[2 half - t], hi[half] == 0), as the
/// separable Gabor's row kernel is: the taps t and 2 half - t share one multiply-add per part, on the sum
/// and the difference of their two samples, which halves the multiply-adds (sums and differences run on
/// the adders). n a multiple of 4 * lanes.
template <class F, int B = 32>
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
        const V xp = vload<F, B>(p + k * L), xq = vload<F, B>(q + k * L);
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

/// Vertical FIRs work on blocks of output rows, one column strip at a time, so that the taps' rows stay in
/// L1, and compute kColRows output rows per pass over the input rows: every loaded vector feeds kColRows
/// accumulators, and the weights slide through registers (row i + k uses h[j - k] at input row i + j).
/// `hp` is the kernel with kColRows - 1 zeros on each side, splatted: see pad_taps().
constexpr int kColRows = 4;

/// A kernel for the vertical FIRs: kColRows - 1 zeros on each side, then splatted.
template <class F>
std::vector<F> pad_taps(const std::vector<F>& h) {
  std::vector<F> hp(h.size() + 2 * (kColRows - 1), F(0));
  std::copy(h.begin(), h.end(), hp.begin() + (kColRows - 1));
  return splat(hp);
}

/// Vertical FIR over two planes: re[i * out_stride + c] = sum_t h[t] * a[(i + t) * stride + c], im
/// likewise from b, for i in [0, nrows) and c in [0, n) (n a multiple of the vector lanes).
template <class F, int B = 32>
SEGEN_ALWAYS_INLINE void fir_col2(const F* a, const F* b, std::ptrdiff_t stride, const F* hp, int taps, F* re, F* im,
                           std::ptrdiff_t out_stride, std::ptrdiff_t nrows, std::ptrdiff_t n) {
  using V = vec_t<F, B>;
  constexpr int L = Vec<F, B>::lanes, S = kSplat<F>;
  const F* h = hp + (kColRows - 1) * S;
  for (std::ptrdiff_t c = 0; c < n; c += L) {
    std::ptrdiff_t i = 0;
    for (; i + 4 <= nrows; i += 4) {
      V a0{}, a1{}, a2{}, a3{}, b0{}, b1{}, b2{}, b3{};
      V w1{}, w2{}, w3{};  // h[-1], h[-2], h[-3] are the zero padding
      const F* pa = a + i * stride + c;
      const F* pb = b + i * stride + c;
      for (int j = 0; j < taps + 3; ++j, pa += stride, pb += stride) {
        const V w0 = vload<F, B>(h + j * S);
        const V xa = vload<F, B>(pa), xb = vload<F, B>(pb);
        a0 += w0 * xa, a1 += w1 * xa, a2 += w2 * xa, a3 += w3 * xa;
        b0 += w0 * xb, b1 += w1 * xb, b2 += w2 * xb, b3 += w3 * xb;
        w3 = w2, w2 = w1, w1 = w0;
      }
      F* dr = re + i * out_stride + c;
      F* di = im + i * out_stride + c;
      vstore<F, B>(dr, a0), vstore<F, B>(dr + out_stride, a1), vstore<F, B>(dr + 2 * out_stride, a2);
      vstore<F, B>(dr + 3 * out_stride, a3);
      vstore<F, B>(di, b0), vstore<F, B>(di + out_stride, b1), vstore<F, B>(di + 2 * out_stride, b2);
      vstore<F, B>(di + 3 * out_stride, b3);
    }
    for (; i < nrows; ++i) {
      V a0{}, b0{};
      const F* pa = a + i * stride + c;
      const F* pb = b + i * stride + c;
      for (int t = 0; t < taps; ++t, pa += stride, pb += stride) {
        const V w = vload<F, B>(h + t * S);
        a0 += w * vload<F, B>(pa), b0 += w * vload<F, B>(pb);
      }
      vstore<F, B>(re + i * out_stride + c, a0), vstore<F, B>(im + i * out_stride + c, b0);
    }
  }
}

/// Vertical FIR over one plane: out[i * out_stride + c] = sum_t h[t] * rows[(i + t) * stride + c]
/// (n a multiple of 2 * lanes); `hp` padded as for fir_col2.
template <class F, int B = 32>
SEGEN_ALWAYS_INLINE void fir_col(const F* rows, std::ptrdiff_t stride, const F* hp, int taps, F* out,
                          std::ptrdiff_t out_stride, std::ptrdiff_t nrows, std::ptrdiff_t n) {
  using V = vec_t<F, B>;
  constexpr int L = Vec<F, B>::lanes, S = kSplat<F>;
  const F* h = hp + (kColRows - 1) * S;
  for (std::ptrdiff_t c = 0; c < n; c += 2 * L) {
    std::ptrdiff_t i = 0;
    for (; i + 4 <= nrows; i += 4) {
      V a0{}, a1{}, a2{}, a3{}, b0{}, b1{}, b2{}, b3{};
      V w1{}, w2{}, w3{};
      const F* p = rows + i * stride + c;
      for (int j = 0; j < taps + 3; ++j, p += stride) {
        const V w0 = vload<F, B>(h + j * S);
        const V xa = vload<F, B>(p), xb = vload<F, B>(p + L);
        a0 += w0 * xa, a1 += w1 * xa, a2 += w2 * xa, a3 += w3 * xa;
        b0 += w0 * xb, b1 += w1 * xb, b2 += w2 * xb, b3 += w3 * xb;
        w3 = w2, w2 = w1, w1 = w0;
      }
      F* d = out + i * out_stride + c;
      vstore<F, B>(d, a0), vstore<F, B>(d + out_stride, a1), vstore<F, B>(d + 2 * out_stride, a2);
      vstore<F, B>(d + 3 * out_stride, a3);
      vstore<F, B>(d + L, b0), vstore<F, B>(d + L + out_stride, b1), vstore<F, B>(d + L + 2 * out_stride, b2);
      vstore<F, B>(d + L + 3 * out_stride, b3);
    }
    for (; i < nrows; ++i) {
      V a0{}, b0{};
      const F* p = rows + i * stride + c;
      for (int t = 0; t < taps; ++t, p += stride) {
        const V w = vload<F, B>(h + t * S);
        a0 += w * vload<F, B>(p), b0 += w * vload<F, B>(p + L);
      }
      vstore<F, B>(out + i * out_stride + c, a0), vstore<F, B>(out + i * out_stride + c + L, b0);
    }
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
