#include "segen/features.hpp"

#include <algorithm>  // std::max, std::min, std::fill
#include <array>      // std::array
#include <cmath>      // std::cos, std::sin, std::exp, std::sqrt, std::ceil, std::isfinite
#include <complex>    // std::complex
#include <cstdint>
#include <cstring>  // std::memcpy
#include <limits>   // std::numeric_limits
#include <mutex>    // std::mutex
#include <string>
#include <utility>  // std::pair, std::swap
#include <vector>

#include "detail/color_hsv.hpp"
#include "detail/common.hpp"
#include "detail/dispatch.hpp"  // SEGEN_NO_CONTRACT
#include "detail/features_canny.hpp"
#include "detail/features_fir.hpp"
#include "detail/x86_intrin.hpp"
#include "segen/filters.hpp"
#include "segen/parallel.hpp"

namespace segen {
namespace {

using detail::Buffer;
using detail::border_index;
using detail::padded_width;

constexpr double kPi = 3.14159265358979323846;
constexpr double kMaxKernelElements = 67108864.0;  // 2^26

void require_finite(double v, const char* name) {
  if (!std::isfinite(v)) throw InvalidArgument(std::string("`") + name + "` must be finite; got " + detail::format_number(v));
}

void require_positive(double v, const char* name) {
  if (!(std::isfinite(v) && v > 0))
    throw InvalidArgument(std::string("`") + name + "` must be finite and > 0; got " + detail::format_number(v));
}

// ---- hot loops -----------------------------------------------------------------------------------------
// Each FIR loop is compiled per CPU level (detail/dispatch.hpp): baseline x86-64 and x86-64-v3 (AVX2/FMA)
// with 32-byte vectors, x86-64-v4 (AVX-512) with 64-byte vectors (vector_bytes(kLevel)).
// Every form computes each output with the same taps in the same order, so only the usual FMA-vs-no-FMA
// rounding differs between machines, never between thread counts.
using detail::vector_bytes;

#define SEGEN_FIR_FORMS(F)                                                                                       \
  SEGEN_MULTIVERSION(V4, , void, hot_cfir_row,                                                                   \
                     (const F* in, const F* hr, const F* hi, int taps, F* re, F* im, std::ptrdiff_t n,           \
                      detail::Store mode, F cr, F ci), (in, hr, hi, taps, re, im, n, mode, cr, ci)) {            \
    constexpr int B = vector_bytes(kLevel);                                                                      \
    if (mode == detail::Store::Add)                                                                              \
      detail::cfir_row<F, detail::Store::Add, B>(in, hr, hi, taps, re, im, n);                                   \
    else if (mode == detail::Store::Rotate)                                                                      \
      detail::cfir_row<F, detail::Store::Rotate, B>(in, hr, hi, taps, re, im, n, cr, ci);                        \
    else                                                                                                         \
      detail::cfir_row<F, detail::Store::Set, B>(in, hr, hi, taps, re, im, n);                                   \
  }                                                                                                              \
  SEGEN_MULTIVERSION(V4, , void, hot_cfir_row_sym,                                                               \
                     (const F* in, const F* hr, const F* hi, int half, F* re, F* im, std::ptrdiff_t n, F cr,     \
                      F ci), (in, hr, hi, half, re, im, n, cr, ci)) {                                            \
    detail::cfir_row_sym<F, vector_bytes(kLevel), kLevel >= detail::CpuLevel::V3>(in, hr, hi, half, re, im, n, cr, \
                                                                                  ci);                         \
  }                                                                                                              \
  SEGEN_MULTIVERSION(V4, , void, hot_fir_col_sym,                                                               \
                     (const F* const* rows, std::ptrdiff_t boff, const F* g, int half, F* oa, F* ob,             \
                      std::ptrdiff_t os, std::ptrdiff_t nrows, std::ptrdiff_t n),                                \
                     (rows, boff, g, half, oa, ob, os, nrows, n)) {                                              \
    detail::fir_col_sym<F, vector_bytes(kLevel)>(rows, boff, g, half, oa, ob, os, nrows, n);                     \
  }
SEGEN_FIR_FORMS(float)
SEGEN_FIR_FORMS(double)
#undef SEGEN_FIR_FORMS
// The real FIRs serve only the float magnitudes of gabor_bank.
SEGEN_MULTIVERSION(V4, , void, hot_fir_row,
                   (const float* in, const float* h, int taps, float* out, std::ptrdiff_t n), (in, h, taps, out, n)) {
  detail::fir_row<float, vector_bytes(kLevel)>(in, h, taps, out, n);
}

SEGEN_MULTIVERSION(V3, , void, hot_magnitude,
                   (const float* __restrict a, const float* __restrict b, float scale, float* __restrict out,
                    std::ptrdiff_t n), (a, b, scale, out, n)) {
  for (std::ptrdiff_t x = 0; x < n; ++x) out[x] = scale * std::sqrt(a[x] * a[x] + b[x] * b[x]);
}

#if SEGEN_HAVE_X86_INTRIN
/// interleave() for 8 sources on x86-64-v3 and up: 8 x 8 blocks transposed in registers, one 32-byte store
/// per pixel. Called from the v3 / v4 copies (not inlined: its target attribute differs from theirs).
__attribute__((target("avx2"))) void interleave8_avx2(const float* const* src, std::ptrdiff_t pixel_stride,
                                                      float* dst, std::ptrdiff_t n) {
  std::ptrdiff_t x = 0;
  for (; x + 8 <= n; x += 8) {
    __m256 r[8], t[8], u[8];
    for (int k = 0; k < 8; ++k) r[k] = _mm256_loadu_ps(src[k] + x);
    for (int k = 0; k < 8; k += 2) t[k] = _mm256_unpacklo_ps(r[k], r[k + 1]), t[k + 1] = _mm256_unpackhi_ps(r[k], r[k + 1]);
    for (int k = 0; k < 8; k += 4) {  // u[k + m]: sources k .. k + 3 of pixels m and m + 4
      u[k] = _mm256_shuffle_ps(t[k], t[k + 2], _MM_SHUFFLE(1, 0, 1, 0));
      u[k + 1] = _mm256_shuffle_ps(t[k], t[k + 2], _MM_SHUFFLE(3, 2, 3, 2));
      u[k + 2] = _mm256_shuffle_ps(t[k + 1], t[k + 3], _MM_SHUFFLE(1, 0, 1, 0));
      u[k + 3] = _mm256_shuffle_ps(t[k + 1], t[k + 3], _MM_SHUFFLE(3, 2, 3, 2));
    }
    float* d = dst + x * pixel_stride;
    for (int m = 0; m < 4; ++m) {
      _mm256_storeu_ps(d + m * pixel_stride, _mm256_permute2f128_ps(u[m], u[m + 4], 0x20));
      _mm256_storeu_ps(d + (m + 4) * pixel_stride, _mm256_permute2f128_ps(u[m], u[m + 4], 0x31));
    }
  }
  for (; x < n; ++x)
    for (int k = 0; k < 8; ++k) dst[x * pixel_stride + k] = src[k][x];
}
#endif

/// dst[x * pixel_stride + k] = src[k][x] for k in [0, nk), x in [0, n): features into an (H, W, F) row.
SEGEN_MULTIVERSION(V4, , void, hot_interleave,
                   (const float* const* src, int nk, std::ptrdiff_t pixel_stride, float* dst, std::ptrdiff_t n),
                   (src, nk, pixel_stride, dst, n)) {
#if SEGEN_HAVE_X86_INTRIN
  if constexpr (kLevel >= detail::CpuLevel::V3) {
    if (nk == 8) {
      interleave8_avx2(src, pixel_stride, dst, n);
      return;
    }
  }
#endif
  for (std::ptrdiff_t x = 0; x < n; ++x)
    for (int k = 0; k < nk; ++k) dst[x * pixel_stride + k] = src[k][x];
}
/// Features interleaved per pass of hot_interleave().
constexpr std::ptrdiff_t kInterleave = 8;

/// Rows per block of the column passes: the strip loops reuse the taps' rows from L1 within a block.
constexpr std::ptrdiff_t kRowsPerBlock = 16;

// ---- Gabor geometry -----------------------------------------------------------------------------------

struct GaborGeometry {
  double sx = 0, sy = 0, ct = 1, st = 0;
  std::ptrdiff_t x0 = 1, y0 = 1;  // kernel half-width (x, columns) and half-height (y, rows)
};

GaborGeometry gabor_geometry(const GaborOptions& o) {
  require_positive(o.frequency, "frequency");
  require_finite(o.theta, "theta");
  require_finite(o.offset, "offset");
  if (!(std::isfinite(o.n_stds) && o.n_stds >= 0))
    throw InvalidArgument("`n_stds` must be finite and >= 0; got " + detail::format_number(o.n_stds));
  if (!(std::isfinite(o.sigma_x) && o.sigma_x >= 0))
    throw InvalidArgument("`sigma_x` must be > 0 (or 0 to derive it from `bandwidth`); got " + detail::format_number(o.sigma_x));
  if (!(std::isfinite(o.sigma_y) && o.sigma_y >= 0))
    throw InvalidArgument("`sigma_y` must be > 0 (or 0 to derive it from `bandwidth`); got " + detail::format_number(o.sigma_y));
  GaborGeometry g;
  g.sx = o.sigma_x;
  g.sy = o.sigma_y;
  if (g.sx == 0 || g.sy == 0) {
    const double s = gabor_sigma(o.frequency, o.bandwidth);
    if (g.sx == 0) g.sx = s;
    if (g.sy == 0) g.sy = s;
  }
  // The kernel divides by sigma_x * sigma_y and by their squares: below ~1e-154 these underflow to 0 (NaN kernel).
  if (!(g.sx * g.sx > 0 && g.sy * g.sy > 0 && std::isfinite(1.0 / (g.sx * g.sy))))
    throw InvalidArgument("the Gabor envelope's sigma (" + detail::format_number(g.sx) + ", " +
                          detail::format_number(g.sy) +
                          ") is too small for a finite kernel: lower `frequency` or raise `sigma_x` / `sigma_y`");
  g.ct = std::cos(o.theta);
  g.st = std::sin(o.theta);
  // Same expressions (and evaluation order) as scikit-image, so the sizes agree at integer boundaries.
  const double hx = std::max({std::fabs(o.n_stds * g.sx * g.ct), std::fabs(o.n_stds * g.sy * g.st), 1.0});
  const double hy = std::max({std::fabs(o.n_stds * g.sy * g.ct), std::fabs(o.n_stds * g.sx * g.st), 1.0});
  const double kx = 2 * std::ceil(hx) + 1, ky = 2 * std::ceil(hy) + 1;
  if (!(kx * ky <= kMaxKernelElements))
    throw InvalidArgument("the Gabor kernel would be " + detail::format_number(ky) + " x " + detail::format_number(kx) +
                          ", more than 2^26 elements: raise `frequency` or lower `sigma_x`, `sigma_y` or `n_stds`");
  g.x0 = static_cast<std::ptrdiff_t>(std::ceil(hx));
  g.y0 = static_cast<std::ptrdiff_t>(std::ceil(hy));
  return g;
}

// ---- Gabor engine: the complex response band by band -----------------------------------------------------
//
// Separable case (sigma_x == sigma_y = s, so x0 == y0 = R): with a = 2 pi f cos(theta), b = 2 pi f sin(theta),
//   g(i, j) = norm e^{i offset} [G(j) e^{i a j}] [G(i) e^{i b i}],  G(k) = exp(-k^2 / (2 s^2)).
// The convolution out(r, c) = sum_{i,j} E(r - i, c - j) g(i, j) (E: the border-extended image) is
//   T(u, c) = sum_j E(u, c - j) G(j) e^{i a j}                       (complex row pass)
//   out(r, c) = norm e^{i (offset + b r)} sum_u [T(u, c) e^{-i b u}] G(r - u)  (real column pass)
// so the row pass rotates its sums by the row phase e^{-i b u} and the column pass is a real Gaussian
// applied to both planes: 2K + 2K multiply-adds per pixel instead of 2K + 4K, and the magnitude needs no
// final rotation. Rows outside the image (u < 0 or u >= H) are halo rows of the planes, each with its own
// phase. G(j) cos(a j) is even and G(j) sin(a j) odd, so the row pass pairs taps j and -j
// (detail::cfir_row_sym), and G is even, so the column pass pairs rows too (detail::fir_col_sym): about K
// multiply-adds per pass instead of 2K.
//
// The planes are never materialised whole: each thread walks its rows in bands of kRowsPerBlock, keeping
// the row pass's last kRowsPerBlock + 2R rows in a ring (the column pass reads them through a row table),
// so both passes work in L2 instead of streaming two image-sized planes through memory. Each thread's
// first band recomputes its 2R halo rows; every row is computed the same way whatever the split.
//
// Otherwise a direct 2-D complex correlation with the 180-degree-rotated kernel runs on a padded copy.
template <class F>
class GaborEngine {
 public:
  void setup(const GaborOptions& o, std::ptrdiff_t h, std::ptrdiff_t w) {
    const GaborGeometry g = gabor_geometry(o);
    h_ = h;
    w_ = w;
    wp_ = padded_width(w);
    ps_ = detail::plane_stride<F>(w);
    mode_ = o.mode;
    cval_ = o.cval;
    separable_ = g.sx == g.sy;
    if (separable_) {
      r_ = g.x0;  // == g.y0
      const std::ptrdiff_t k = 2 * r_ + 1;
      const double s = g.sx, a = 2 * kPi * o.frequency * g.ct;
      b_ = 2 * kPi * o.frequency * g.st;
      norm_ = 1.0 / (2 * kPi * s * s);
      offset_ = o.offset;
      gx_.assign(static_cast<std::size_t>(k), {});
      std::vector<F> gy(static_cast<std::size_t>(r_ + 1), F(0));  // G(-R) .. G(0): the column pass is symmetric
      gsum_ = 0;
      for (std::ptrdiff_t j = -r_; j <= r_; ++j) {
        const double env = std::exp(-0.5 * static_cast<double>(j * j) / (s * s));
        const std::complex<double> v(env * std::cos(a * static_cast<double>(j)),
                                     env * std::sin(a * static_cast<double>(j)));
        gx_[static_cast<std::size_t>(j + r_)] = v;
        if (j <= 0) gy[static_cast<std::size_t>(j + r_)] = static_cast<F>(env);
        gsum_ += v;
      }
      gy_ = detail::splat(gy);
      std::vector<F> hr(static_cast<std::size_t>(k)), hi(hr.size());  // correlation taps: gx(R - q)
      for (std::ptrdiff_t q = 0; q < k; ++q) {
        hr[static_cast<std::size_t>(q)] = static_cast<F>(gx_[static_cast<std::size_t>(2 * r_ - q)].real());
        hi[static_cast<std::size_t>(q)] = static_cast<F>(gx_[static_cast<std::size_t>(2 * r_ - q)].imag());
      }
      hxr_ = detail::splat(hr);
      hxi_ = detail::splat(hi);
    } else {
      kx_ = 2 * g.x0 + 1;
      ky_ = 2 * g.y0 + 1;
      x0_ = g.x0;
      y0_ = g.y0;
      const Image<double> kern = gabor_kernel(o);
      std::vector<F> kre(static_cast<std::size_t>(kx_ * ky_)), kim(kre.size());
      for (std::ptrdiff_t p = 0; p < ky_; ++p)
        for (std::ptrdiff_t q = 0; q < kx_; ++q) {
          const std::size_t i = static_cast<std::size_t>(p * kx_ + q);
          kre[i] = static_cast<F>(kern(ky_ - 1 - p, kx_ - 1 - q, 0));
          kim[i] = static_cast<F>(kern(ky_ - 1 - p, kx_ - 1 - q, 1));
        }
      kre_ = detail::splat(kre);
      kim_ = detail::splat(kim);
      pw_ = wp_ + 2 * x0_;
      const std::size_t plane = static_cast<std::size_t>((h + 2 * y0_) * pw_);
      if (pad_.size() < plane) pad_.reset(plane, false);
    }
  }

  /// Width processed per row (a multiple of detail::kRowBlock) and row stride of the bands run() passes.
  std::ptrdiff_t padded() const { return wp_; }
  std::ptrdiff_t stride() const { return ps_; }

  /// The response of channel `ch` of `src`, in bands of at most kRowsPerBlock rows, in parallel: for each
  /// band, fn(r0, nrows, re, im, factor) with response(r0 + i, x) = factor[i] * (re[i * stride() + x] +
  /// i im[i * stride() + x]) for x in [0, w). fn runs on several threads at once (never twice for a row).
  template <class T, class Fn>
  void run(ImageView<const T> src, std::ptrdiff_t ch, Fn&& fn) {
    if (separable_) {
      run_separable(src, ch, fn);
      return;
    }
    pad(src, ch);
    parallel_for(h_, [&](std::ptrdiff_t r0, std::ptrdiff_t r1) {
      Buffer<F> re(static_cast<std::size_t>(kRowsPerBlock * ps_)), im(static_cast<std::size_t>(kRowsPerBlock * ps_));
      std::complex<double> factor[kRowsPerBlock];
      for (std::ptrdiff_t rb = r0; rb < r1; rb += kRowsPerBlock) {
        const std::ptrdiff_t nb = std::min(kRowsPerBlock, r1 - rb);
        for (std::ptrdiff_t i = 0; i < nb; ++i) {
          for (std::ptrdiff_t p = 0; p < ky_; ++p)
            hot_cfir_row(pad_.data() + (rb + i + p) * pw_, kre_.data() + p * kx_ * detail::kSplat<F>,
                         kim_.data() + p * kx_ * detail::kSplat<F>, static_cast<int>(kx_), re.data() + i * ps_,
                         im.data() + i * ps_, wp_, p > 0 ? detail::Store::Add : detail::Store::Set, F(1), F(0));
          factor[i] = {1.0, 0.0};
        }
        fn(rb, nb, re.data(), im.data(), static_cast<const std::complex<double>*>(factor));
      }
    }, kRowsPerBlock);
  }

 private:
  template <class T, class Fn>
  void run_separable(ImageView<const T> src, std::ptrdiff_t ch, Fn& fn) {
    // One contiguous range of rows per thread (each range recomputes its 2R halo rows), at least 2R tall.
    const std::ptrdiff_t min_rows = std::max<std::ptrdiff_t>(kRowsPerBlock, 2 * r_);
    const std::ptrdiff_t chunks =
        std::max<std::ptrdiff_t>(1, std::min<std::ptrdiff_t>(get_num_threads(), h_ / min_rows));
    const std::ptrdiff_t ring = kRowsPerBlock + 2 * r_;  // rows kept: one band and its halo
    const std::ptrdiff_t n_ext = wp_ + 2 * r_;
    parallel_for(chunks, [&](std::ptrdiff_t c0, std::ptrdiff_t c1) {
      Buffer<F> planes(static_cast<std::size_t>(2 * ring * ps_), false);  // re rows, then im rows
      Buffer<F> ext(static_cast<std::size_t>(n_ext), false);
      Buffer<F> re(static_cast<std::size_t>(kRowsPerBlock * ps_)), im(static_cast<std::size_t>(kRowsPerBlock * ps_));
      std::vector<const F*> table(static_cast<std::size_t>(ring));
      std::complex<double> factor[kRowsPerBlock];
      const std::ptrdiff_t boff = ring * ps_;
      for (std::ptrdiff_t c = c0; c < c1; ++c) {
        const std::ptrdiff_t r0 = h_ * c / chunks, r1 = h_ * (c + 1) / chunks;
        std::ptrdiff_t done = r0;  // plane rows [r0, done) are in the ring (plane row v = image row v - R)
        for (std::ptrdiff_t rb = r0; rb < r1; rb += kRowsPerBlock) {
          poll_interrupt();
          const std::ptrdiff_t nb = std::min(kRowsPerBlock, r1 - rb);
          for (; done < rb + nb + 2 * r_; ++done) {
            F* ore = planes.data() + (done % ring) * ps_;
            row(src, ch, done, ext.data(), ore, ore + boff);
          }
          for (std::ptrdiff_t q = 0; q < nb + 2 * r_; ++q)
            table[static_cast<std::size_t>(q)] = planes.data() + ((rb + q) % ring) * ps_;
          hot_fir_col_sym(table.data(), boff, gy_.data(), static_cast<int>(r_), re.data(), im.data(), ps_, nb, wp_);
          for (std::ptrdiff_t i = 0; i < nb; ++i)
            factor[i] = std::polar(norm_, offset_ + b_ * static_cast<double>(rb + i));
          fn(rb, nb, re.data(), im.data(), static_cast<const std::complex<double>*>(factor));
        }
      }
    }, 1);
  }

  /// Plane row v (image row v - R) of the row pass, rotated by its row phase, into ore / oim.
  template <class T>
  void row(ImageView<const T> src, std::ptrdiff_t ch, std::ptrdiff_t v, F* ext, F* ore, F* oim) const {
    const std::ptrdiff_t u = v - r_;
    const std::complex<double> rot = std::polar(1.0, -b_ * static_cast<double>(u));  // e^{-i b u}
    const std::ptrdiff_t y = border_index(u, h_, mode_);
    if (y < 0) {  // a constant row outside the image
      const std::complex<double> c = gsum_ * cval_ * rot;
      std::fill(ore, ore + wp_, static_cast<F>(c.real()));
      std::fill(oim, oim + wp_, static_cast<F>(c.imag()));
      return;
    }
    const std::ptrdiff_t n_ext = wp_ + 2 * r_;
    detail::extend_row(src.row(y), w_, src.channels, ch, r_, mode_, static_cast<F>(cval_), ext, n_ext);
    hot_cfir_row_sym(ext, hxr_.data(), hxi_.data(), static_cast<int>(r_), ore, oim, wp_, static_cast<F>(rot.real()),
                     static_cast<F>(rot.imag()));
  }

  template <class T>
  void pad(ImageView<const T> src, std::ptrdiff_t ch) {
    parallel_for(h_ + 2 * y0_, [&](std::ptrdiff_t v0, std::ptrdiff_t v1) {
      for (std::ptrdiff_t v = v0; v < v1; ++v) {
        F* row = pad_.data() + v * pw_;
        const std::ptrdiff_t y = border_index(v - y0_, h_, mode_);
        if (y < 0)
          std::fill(row, row + pw_, static_cast<F>(cval_));
        else
          detail::extend_row(src.row(y), w_, src.channels, ch, x0_, mode_, static_cast<F>(cval_), row, pw_);
      }
    }, 16);
  }

  std::ptrdiff_t h_ = 0, w_ = 0, wp_ = 0, ps_ = 0;
  Border mode_ = Border::Reflect;
  double cval_ = 0;
  bool separable_ = true;
  // separable
  std::ptrdiff_t r_ = 0;
  double b_ = 0, norm_ = 1, offset_ = 0;
  std::vector<std::complex<double>> gx_;
  std::complex<double> gsum_;
  std::vector<F> gy_, hxr_, hxi_;  // splatted
  // 2-D
  std::ptrdiff_t kx_ = 0, ky_ = 0, x0_ = 0, y0_ = 0, pw_ = 0;
  std::vector<F> kre_, kim_;
  Buffer<F> pad_;
};

}  // namespace

// ---- Gabor: public functions ----------------------------------------------------------------------------

double gabor_sigma(double frequency, double bandwidth) {
  require_positive(frequency, "frequency");
  require_positive(bandwidth, "bandwidth");
  const double p = std::pow(2.0, bandwidth);
  // scikit-image's expression, term by term (see http://www.cs.rug.nl/~imaging/simplecell.html).
  return 1.0 / kPi * std::sqrt(std::log(2.0) / 2.0) * (p + 1) / (p - 1) / frequency;
}

Image<double> gabor_kernel(const GaborOptions& o) {
  const GaborGeometry g = gabor_geometry(o);
  Image<double> k(2 * g.y0 + 1, 2 * g.x0 + 1, 2);
  const double scale = 1.0 / (2 * kPi * g.sx * g.sy);
  const double sx2 = g.sx * g.sx, sy2 = g.sy * g.sy;
  for (std::ptrdiff_t yy = 0; yy < k.height(); ++yy) {
    const double y = static_cast<double>(yy - g.y0);
    for (std::ptrdiff_t xx = 0; xx < k.width(); ++xx) {
      const double x = static_cast<double>(xx - g.x0);
      const double rx = x * g.ct + y * g.st;
      const double ry = -x * g.st + y * g.ct;
      const double env = std::exp(-0.5 * (rx * rx / sx2 + ry * ry / sy2));
      const double ph = 2 * kPi * o.frequency * rx + o.offset;
      k(yy, xx, 0) = env * std::cos(ph) * scale;
      k(yy, xx, 1) = env * std::sin(ph) * scale;
    }
  }
  return k;
}

template <class T>
void gabor_into(ImageView<const T> image, ImageView<feature_float_t<T>> real, ImageView<feature_float_t<T>> imag,
                const GaborOptions& opt) {
  using F = feature_float_t<T>;
  detail::require_nonempty(image, "image");
  detail::require_same_shape(image, real, "image", "real");
  detail::require_same_shape(image, imag, "image", "imag");
  detail::require_no_overlap(image, real, "image", "real");
  detail::require_no_overlap(image, imag, "image", "imag");
  detail::require_no_overlap(real, imag, "real", "imag");
  require_finite(opt.cval, "cval");
  GaborEngine<F> eng;
  eng.setup(opt, image.height, image.width);
  const std::ptrdiff_t ps = eng.stride(), w = image.width, c = image.channels;
  for (std::ptrdiff_t ch = 0; ch < c; ++ch) {
    eng.run(image, ch, [&](std::ptrdiff_t rb, std::ptrdiff_t nb, const F* re, const F* im,
                           const std::complex<double>* factor) {
      for (std::ptrdiff_t i = 0; i < nb; ++i) {
        const F fr = static_cast<F>(factor[i].real()), fi = static_cast<F>(factor[i].imag());
        const F* a = re + i * ps;
        const F* b = im + i * ps;
        F* dr = real.row(rb + i) + ch;
        F* di = imag.row(rb + i) + ch;
        for (std::ptrdiff_t x = 0; x < w; ++x) {
          dr[x * c] = fr * a[x] - fi * b[x];
          di[x * c] = fr * b[x] + fi * a[x];
        }
      }
    });
  }
}

template <class T>
GaborResponse<feature_float_t<T>> gabor(ImageView<const T> image, const GaborOptions& opt) {
  using F = feature_float_t<T>;
  GaborResponse<F> res{Image<F>(image.height, image.width, image.channels),
                       Image<F>(image.height, image.width, image.channels)};
  gabor_into<T>(image, res.real.view(), res.imag.view(), opt);
  return res;
}

template <class T>
void gabor_bank_into(ImageView<const T> image, const GaborBankOptions& opt, ImageView<float> out) {
  detail::require_nonempty(image, "image");
  if (image.channels != 1)
    throw InvalidArgument("`image` must be grey (one channel); got " + std::to_string(image.channels) +
                          " channels");
  if (opt.frequencies.empty()) throw InvalidArgument("`frequencies` must not be empty");
  if (opt.thetas.empty()) throw InvalidArgument("`thetas` must not be empty");
  if (!(std::isfinite(opt.smoothing) && opt.smoothing >= 0))
    throw InvalidArgument("`smoothing` must be finite and >= 0; got " + detail::format_number(opt.smoothing));
  require_positive(opt.smoothing_truncate, "smoothing_truncate");
  require_finite(opt.cval, "cval");
  const std::ptrdiff_t nf = static_cast<std::ptrdiff_t>(opt.frequencies.size() * opt.thetas.size());
  const std::ptrdiff_t h = image.height, w = image.width;
  if (out.height != h || out.width != w || out.channels != nf)
    throw InvalidArgument("`out` must have shape " + detail::shape_str(h, w, nf) + "; got " +
                          detail::shape_str(out.height, out.width, out.channels));
  detail::require_no_overlap(image, out, "image", "out");
  std::vector<GaborOptions> filters;
  for (double f : opt.frequencies)
    for (double t : opt.thetas) {
      GaborOptions o;
      o.frequency = f;
      o.theta = t;
      o.bandwidth = opt.bandwidth;
      o.sigma_x = opt.sigma_x;
      o.sigma_y = opt.sigma_y;
      o.n_stds = opt.n_stds;
      o.mode = opt.mode;
      o.cval = opt.cval;
      gabor_geometry(o);  // validate every filter before any work
      filters.push_back(o);
    }

  const std::ptrdiff_t wp = padded_width(w), ps = detail::plane_stride<float>(w);
  // Per feature: the magnitudes, smoothed along the rows into `rows` (with rs halo rows above and below),
  // then down the columns into the feature's plane, which the last pass interleaves into the output.
  std::vector<Buffer<float>> planes(static_cast<std::size_t>(nf));
  Buffer<float> rows;
  GaborEngine<float> eng;
  for (std::ptrdiff_t k = 0; k < nf; ++k) {
    const GaborOptions& o = filters[static_cast<std::size_t>(k)];
    const std::vector<double> wd = opt.smoothing > 0
                                       ? detail::gaussian_weights(opt.smoothing / o.frequency, opt.smoothing_truncate)
                                       : std::vector<double>{1.0};
    const std::vector<float> ws(wd.begin(), wd.end());
    const std::ptrdiff_t rs = static_cast<std::ptrdiff_t>(ws.size() / 2);
    const std::vector<float> ws_splat = detail::splat(ws);
    const std::vector<float> half_splat = detail::splat(std::vector<float>(ws.begin(), ws.begin() + rs + 1));
    Buffer<float>& plane = planes[static_cast<std::size_t>(k)];
    plane.reset(static_cast<std::size_t>(h * ps), false);
    if (rs > 0 && rows.size() < static_cast<std::size_t>((h + 2 * rs) * ps))
      rows.reset(static_cast<std::size_t>((h + 2 * rs) * ps), false);

    eng.setup(o, h, w);
    eng.run(image, 0, [&](std::ptrdiff_t rb, std::ptrdiff_t nb, const float* re, const float* im,
                          const std::complex<double>* factor) {
      Buffer<float> ext_buf(rs > 0 ? static_cast<std::size_t>(wp + 2 * rs) : 0, false);
      float* ext = ext_buf.data();
      for (std::ptrdiff_t i = 0; i < nb; ++i) {
        const float scale = static_cast<float>(std::abs(factor[i]));
        const float* pa = re + i * ps;
        const float* pb = im + i * ps;
        float* dst = rs > 0 ? rows.data() + (rb + i + rs) * ps : plane.data() + (rb + i) * ps;
        float* mag = rs > 0 ? ext + rs : dst;
        hot_magnitude(pa, pb, scale, mag, w);
        if (rs == 0) continue;
        // Border of the magnitude row for the horizontal smoothing pass (0 outside for constant mode).
        for (std::ptrdiff_t j = 0; j < rs; ++j) {
          const std::ptrdiff_t a = border_index(j - rs, w, opt.mode), b = border_index(w + j, w, opt.mode);
          ext[j] = a < 0 ? 0.f : mag[a];
          ext[rs + w + j] = b < 0 ? 0.f : mag[b];
        }
        std::fill(ext + w + 2 * rs, ext + wp + 2 * rs, 0.f);
        hot_fir_row(ext, ws_splat.data(), static_cast<int>(ws.size()), dst, wp);
      }
    });
    if (rs == 0) continue;
    // Halo rows for the vertical smoothing pass, then that pass while the rows are still in cache.
    for (std::ptrdiff_t i = 0; i < rs; ++i) {
      for (std::ptrdiff_t v : {i, h + rs + i}) {
        const std::ptrdiff_t y = border_index(v - rs, h, opt.mode);
        float* dst = rows.data() + v * ps;
        if (y < 0)
          std::fill(dst, dst + wp, 0.f);
        else
          std::memcpy(dst, rows.data() + (y + rs) * ps, sizeof(float) * static_cast<std::size_t>(wp));
      }
    }
    parallel_for(h, [&](std::ptrdiff_t r0, std::ptrdiff_t r1) {
      std::vector<const float*> table(static_cast<std::size_t>(kRowsPerBlock + 2 * rs));
      for (std::ptrdiff_t rb = r0; rb < r1; rb += kRowsPerBlock) {
        const std::ptrdiff_t nb = std::min(kRowsPerBlock, r1 - rb);
        for (std::ptrdiff_t q = 0; q < nb + 2 * rs; ++q)
          table[static_cast<std::size_t>(q)] = rows.data() + (rb + q) * ps;
        hot_fir_col_sym(table.data(), 0, half_splat.data(), static_cast<int>(rs), plane.data() + rb * ps, nullptr, ps,
                        nb, wp);
      }
    }, kRowsPerBlock);
  }
  // Interleave the features into the (H, W, F) output, kInterleave at a time.
  parallel_for(h, [&](std::ptrdiff_t r0, std::ptrdiff_t r1) {
    const float* src[kInterleave];
    for (std::ptrdiff_t y = r0; y < r1; ++y)
      for (std::ptrdiff_t k0 = 0; k0 < nf; k0 += kInterleave) {
        const int nk = static_cast<int>(std::min(kInterleave, nf - k0));
        for (int j = 0; j < nk; ++j) src[j] = planes[static_cast<std::size_t>(k0 + j)].data() + y * ps;
        hot_interleave(src, nk, nf, out.row(y) + k0, w);
      }
  }, kRowsPerBlock);
}

template <class T>
Image<float> gabor_bank(ImageView<const T> image, const GaborBankOptions& opt) {
  const std::ptrdiff_t nf = static_cast<std::ptrdiff_t>(opt.frequencies.size() * opt.thetas.size());
  Image<float> out(image.height, image.width, nf);
  gabor_bank_into<T>(image, opt, out.view());
  return out;
}

// ---- HSV colour histogram -------------------------------------------------------------------------------

namespace {

// H, S, V of the n RGB pixels at p with skimage.color.rgb2hsv's arithmetic (detail::hsv_pixels; F: its
// working precision, integers scaled by `scale` first), a vector of pixels at a time.
template <class T, class F>
SEGEN_ALWAYS_INLINE SEGEN_NO_CONTRACT void hsv_row_impl(const T* p, std::ptrdiff_t n, F scale, F* hh, F* ss, F* vv) {
  constexpr auto kArith = detail::HsvArith::Skimage;
  std::ptrdiff_t x = 0;
#if SEGEN_HAVE_VECTOR_EXT
  using V = detail::vec_t<F>;
  constexpr int L = detail::Vec<F>::lanes;
  for (; x + L <= n; x += L) {
    V r, g, b, h, s, v;
    for (int l = 0; l < L; ++l) {
      r[l] = static_cast<F>(p[3 * (x + l)]);
      g[l] = static_cast<F>(p[3 * (x + l) + 1]);
      b[l] = static_cast<F>(p[3 * (x + l) + 2]);
    }
    detail::hsv_pixels<kArith, false, F>(r, g, b, scale, h, s, v);
    std::memcpy(hh + x, &h, sizeof(V));
    std::memcpy(ss + x, &s, sizeof(V));
    std::memcpy(vv + x, &v, sizeof(V));
  }
#endif
  for (; x < n; ++x)
    detail::hsv_pixels<kArith, false, F>(static_cast<F>(p[3 * x]), static_cast<F>(p[3 * x + 1]),
                                         static_cast<F>(p[3 * x + 2]), scale, hh[x], ss[x], vv[x]);
}

// The bin of x among n equal bins of [0, 1] (edges k * step, as np.linspace computes them; values outside
// clamped into the first / last bin): the integer part of x * n, corrected by one against the exact edges.
// bins4 is the same for four values at once.
inline std::int32_t bin1(double x, std::int32_t n, double step) {
  double c = x > 0.0 ? x : 0.0;  // NaN -> 0 (such pixels are not counted anyway)
  c = c < 1.0 ? c : 1.0;
  std::int32_t k = static_cast<std::int32_t>(c * static_cast<double>(n));
  k = k < n - 1 ? k : n - 1;
  if (k + 1 <= n - 1 && c >= static_cast<double>(k + 1) * step) ++k;
  if (k > 0 && c < static_cast<double>(k) * step) --k;
  return k;
}

#if SEGEN_HAVE_VECTOR_EXT
typedef double D4 __attribute__((vector_size(32)));
typedef std::int32_t I4 __attribute__((vector_size(16)));

SEGEN_ALWAYS_INLINE I4 bins4(D4 x, std::int32_t n, double step) {
  const D4 zero{}, one = zero + 1.0;
  D4 c = x > zero ? x : zero;
  c = c < one ? c : one;
  I4 k = __builtin_convertvector(c * static_cast<double>(n), I4);
  const I4 last = I4{} + (n - 1);
  k = k < last ? k : last;
  const I4 k1 = k + 1;
  const I4 up = (k1 <= last) & __builtin_convertvector(c >= __builtin_convertvector(k1, D4) * step, I4);
  k -= up;  // masks are -1
  const I4 down = (k > I4{}) & __builtin_convertvector(c < __builtin_convertvector(k, D4) * step, I4);
  return k + down;
}
#endif

// Flat bin index (hue-major) of each pixel of a row from its H, S, V; -1 where one of them is not finite.
template <class F>
SEGEN_ALWAYS_INLINE SEGEN_NO_CONTRACT void bin_row_impl(const F* hh, const F* ss, const F* vv, std::ptrdiff_t n,
                                                 const std::int32_t* nb, const double* step, std::int32_t* idx) {
  std::ptrdiff_t x = 0;
#if SEGEN_HAVE_VECTOR_EXT
  auto load4 = [](const F* p) {
    D4 d;
    for (int l = 0; l < 4; ++l) d[l] = static_cast<double>(p[l]);
    return d;
  };
  for (; x + 4 <= n; x += 4) {
    const D4 h = load4(hh + x), s = load4(ss + x), v = load4(vv + x);
    const I4 k = (bins4(h, nb[0], step[0]) * nb[1] + bins4(s, nb[1], step[1])) * nb[2] + bins4(v, nb[2], step[2]);
    const I4 finite = __builtin_convertvector((h - h == D4{}) & (s - s == D4{}) & (v - v == D4{}), I4);
    const I4 out = k | ~finite;  // -1 where not finite
    std::memcpy(idx + x, &out, sizeof(out));
  }
#endif
  for (; x < n; ++x) {
    const double h = hh[x], s = ss[x], v = vv[x];
    const bool finite = std::isfinite(h) && std::isfinite(s) && std::isfinite(v);
    idx[x] = finite ? (bin1(h, nb[0], step[0]) * nb[1] + bin1(s, nb[1], step[1])) * nb[2] + bin1(v, nb[2], step[2])
                    : -1;
  }
}

#define SEGEN_HSV_ROW(T, F)                                                                                   \
  SEGEN_MULTIVERSION(V4, SEGEN_NO_CONTRACT, void, hsv_row,                                                    \
                     (const T* p, std::ptrdiff_t n, F scale, F* hh, F* ss, F* vv), (p, n, scale, hh, ss, vv)) { \
    hsv_row_impl<T, F>(p, n, scale, hh, ss, vv);                                                              \
  }
SEGEN_HSV_ROW(std::uint8_t, double)
SEGEN_HSV_ROW(std::uint16_t, double)
SEGEN_HSV_ROW(float, float)
SEGEN_HSV_ROW(double, double)
#undef SEGEN_HSV_ROW

#define SEGEN_BIN_ROW(F)                                                                                             \
  SEGEN_MULTIVERSION(V4, SEGEN_NO_CONTRACT, void, bin_row,                                                           \
                     (const F* hh, const F* ss, const F* vv, std::ptrdiff_t n, const std::int32_t* nb,               \
                      const double* step, std::int32_t* idx), (hh, ss, vv, n, nb, step, idx)) {                      \
    bin_row_impl<F>(hh, ss, vv, n, nb, step, idx);                                                                   \
  }
SEGEN_BIN_ROW(float)
SEGEN_BIN_ROW(double)
#undef SEGEN_BIN_ROW

}  // namespace

template <class T>
void color_histogram_into(ImageView<const T> image, ImageView<double> out, ImageView<const std::uint8_t> mask,
                          bool normalize) {
  // The arithmetic of skimage.color.rgb2hsv: float32 images in float32, everything else in float64, integer
  // images scaled by 1 / dtype max first.
  using F = std::conditional_t<std::is_same_v<T, float>, float, double>;
  detail::require_nonempty(image, "image");
  if (image.channels != 3)
    throw InvalidArgument("`image` must be RGB with 3 channels; got " + std::to_string(image.channels) +
                          " channel(s)");
  if (out.data == nullptr || out.height < 1 || out.width < 1 || out.channels < 1 || !out.contiguous())
    throw InvalidArgument("`bins` must be >= 1 for each channel and `out` contiguous; got " +
                          detail::shape_str(out.height, out.width, out.channels));
  const bool masked = mask.data != nullptr;
  if (masked && (mask.height != image.height || mask.width != image.width || mask.channels != 1))
    throw InvalidArgument("`mask` must have shape " + detail::shape_str(image.height, image.width, 1) + "; got " +
                          detail::shape_str(mask.height, mask.width, mask.channels));
  const std::ptrdiff_t nbins = out.size();
  F scale = F(1);
  if constexpr (std::is_integral_v<T>) scale = F(1) / static_cast<F>(std::numeric_limits<T>::max());
  std::vector<std::int64_t> total(static_cast<std::size_t>(nbins), 0);
  std::mutex merge;
  const std::int32_t nb[3] = {static_cast<std::int32_t>(out.height), static_cast<std::int32_t>(out.width),
                              static_cast<std::int32_t>(out.channels)};
  const double step[3] = {1.0 / static_cast<double>(nb[0]), 1.0 / static_cast<double>(nb[1]),
                          1.0 / static_cast<double>(nb[2])};
  parallel_for(image.height, [&](std::ptrdiff_t y0, std::ptrdiff_t y1) {
    // Four interleaved sub-histograms, so that runs of one colour do not serialise on one counter.
    std::vector<std::int64_t> local(static_cast<std::size_t>(4 * nbins), 0);
    const std::size_t w = static_cast<std::size_t>(image.width);
    std::vector<F> hh(w), ss(w), vv(w);
    std::vector<std::int32_t> idx(w);
    for (std::ptrdiff_t y = y0; y < y1; ++y) {
      const std::uint8_t* m = masked ? mask.row(y) : nullptr;
      hsv_row(image.row(y), image.width, scale, hh.data(), ss.data(), vv.data());
      bin_row(hh.data(), ss.data(), vv.data(), image.width, nb, step, idx.data());
      const T* p = image.row(y);
      for (std::size_t x = 0; x < w; ++x) {
        if ((m && !m[x]) || idx[x] < 0) continue;
        if constexpr (!std::is_integral_v<T>) {
          if (!(std::isfinite(p[3 * x]) && std::isfinite(p[3 * x + 1]) && std::isfinite(p[3 * x + 2]))) continue;
        }
        ++local[4 * static_cast<std::size_t>(idx[x]) + (x & 3)];
      }
    }
    std::lock_guard<std::mutex> lk(merge);  // integer sums: the order does not matter
    for (std::size_t i = 0; i < total.size(); ++i)
      total[i] += local[4 * i] + local[4 * i + 1] + local[4 * i + 2] + local[4 * i + 3];
  }, 32);
  std::int64_t count = 0;
  for (std::int64_t v : total) count += v;
  for (std::ptrdiff_t i = 0; i < nbins; ++i) {
    const double v = static_cast<double>(total[static_cast<std::size_t>(i)]);
    out.data[i] = normalize ? (count > 0 ? v / static_cast<double>(count) : 0.0) : v;
  }
}

template <class T>
Image<double> color_histogram(ImageView<const T> image, int bins_h, int bins_s, int bins_v,
                              ImageView<const std::uint8_t> mask, bool normalize) {
  if (bins_h < 1 || bins_s < 1 || bins_v < 1)
    throw InvalidArgument("`bins` must be >= 1 for each channel; got (" + std::to_string(bins_h) + ", " +
                          std::to_string(bins_s) + ", " + std::to_string(bins_v) + ")");
  Image<double> out(bins_h, bins_s, bins_v);
  color_histogram_into<T>(image, out.view(), mask, normalize);
  return out;
}

// ---- Canny --------------------------------------------------------------------------------------------
//
// Every step reproduces scikit-image's arithmetic, so that ties (a step edge exactly between two pixels,
// symmetric shapes) are decided the same way: the image scaled to [0, 1] in double (img_as_float), scipy's
// Gaussian passes (double sums in scipy's order, stored in W: float for float32 images, double otherwise),
// scipy's Sobel, the magnitude in W, and the Cython non-maximum suppression (float and double mixed as C
// does). The work is done by blocks of rows, each with its own halo.

namespace {

// detail::gauss_hpass_div_avx2, or _avx512 at x86-64-v4, where they are compiled (a template: the call is
// only made in the x86-64-v3 and v4 copies).
template <detail::CpuLevel kLevel, class W>
SEGEN_ALWAYS_INLINE void hpass_div_fast(const double* ext, const double* wl, int r, W* out, std::ptrdiff_t n,
                                        const W* d, std::ptrdiff_t x0, std::ptrdiff_t x1) {
#if SEGEN_CANNY_HAVE_AVX2
  if constexpr (kLevel >= detail::CpuLevel::V4) detail::gauss_hpass_div_avx512(ext, wl, r, out, n, d, x0, x1);
  else detail::gauss_hpass_div_avx2(ext, wl, r, out, n, d, x0, x1);
#else
  (void)ext, (void)wl, (void)r, (void)out, (void)n, (void)d, (void)x0, (void)x1;
#endif
}

#define SEGEN_CANNY_ROWS(W)                                                                                          \
  SEGEN_MULTIVERSION(V3, SEGEN_NO_CONTRACT, void, vpass,                                                             \
                     (const double* const* rows, const double* wl, int r, double* out, std::ptrdiff_t n, W tag),     \
                     (rows, wl, r, out, n, tag)) {                                                                   \
    (void)tag;                                                                                                       \
    detail::gauss_vpass<W>(rows, wl, r, out, n);                                                                     \
  }                                                                                                                  \
  SEGEN_MULTIVERSION(V3, , void, divide_row,                                                                         \
                     (W* __restrict o, const W* __restrict d, W add, std::ptrdiff_t n), (o, d, add, n)) {            \
    for (std::ptrdiff_t x = 0; x < n; ++x) o[x] /= d[x] + add;                                                       \
  }                                                                                                                  \
  SEGEN_MULTIVERSION(V3, SEGEN_NO_CONTRACT, void, hpass,                                                             \
                     (const double* ext, const double* wl, int r, W* out, std::ptrdiff_t n), (ext, wl, r, out, n)) { \
    detail::gauss_hpass<W>(ext, wl, r, out, n);                                                                      \
  }                                                                                                                  \
  SEGEN_MULTIVERSION(V4, SEGEN_NO_CONTRACT, bool, hpass_div,                                                         \
                     (const double* ext, const double* wl, int r, W* out, std::ptrdiff_t n, const W* d,              \
                      std::ptrdiff_t x0, std::ptrdiff_t x1), (ext, wl, r, out, n, d, x0, x1)) {                      \
    if constexpr (std::is_same_v<W, double> && kLevel >= detail::CpuLevel::V3 && SEGEN_CANNY_HAVE_AVX2) {          \
      hpass_div_fast<kLevel>(ext, wl, r, out, n, d, x0, x1);                                                         \
      return true;                                                                                                   \
    }                                                                                                                \
    return false;                                                                                                    \
  }                                                                                                                  \
  SEGEN_MULTIVERSION(V3, SEGEN_NO_CONTRACT, void, sobel_row,                                                         \
                     (const W* up, const W* cur, const W* dn, std::ptrdiff_t w, W* gi, W* gj, W* mag, bool root),    \
                     (up, cur, dn, w, gi, gj, mag, root)) {                                                          \
    if (root)                                                                                                        \
      detail::sobel_row<W, true>(up, cur, dn, w, gi, gj, mag);                                                       \
    else                                                                                                             \
      detail::sobel_row<W, false>(up, cur, dn, w, gi, gj, mag);                                                      \
  }                                                                                                                  \
  SEGEN_MULTIVERSION(V3, , void, sqrt_row, (const W* m2, W* out, std::ptrdiff_t n), (m2, out, n)) {                 \
    for (std::ptrdiff_t x = 0; x < n; ++x) out[x] = std::sqrt(m2[x]);                                                \
  }
SEGEN_CANNY_ROWS(float)
SEGEN_CANNY_ROWS(double)
#undef SEGEN_CANNY_ROWS

// An image row as scipy sees it in skimage.feature.canny: in double, integers scaled by 1 / dtype max,
// masked-out pixels 0 (m == nullptr: no mask); `ones` gets the mask itself as 0 / 1.
#define SEGEN_CONVERT_ROW(T)                                                                                    \
  SEGEN_MULTIVERSION(V3, , void, convert_row,                                                                   \
                     (const T* __restrict src, const std::uint8_t* __restrict m, double scale, double* __restrict d, \
                      double* __restrict ones, std::ptrdiff_t n), (src, m, scale, d, ones, n)) {                \
    if (m) {                                                                                                    \
      for (std::ptrdiff_t x = 0; x < n; ++x) d[x] = static_cast<double>(m[x] ? src[x] : T(0)) * scale;          \
      for (std::ptrdiff_t x = 0; x < n; ++x) ones[x] = m[x] ? 1.0 : 0.0;                                        \
    } else {                                                                                                    \
      for (std::ptrdiff_t x = 0; x < n; ++x) d[x] = static_cast<double>(src[x]) * scale;                        \
    }                                                                                                           \
  }
SEGEN_CONVERT_ROW(std::uint8_t)
SEGEN_CONVERT_ROW(std::uint16_t)
SEGEN_CONVERT_ROW(float)
SEGEN_CONVERT_ROW(double)
#undef SEGEN_CONVERT_ROW

// One row of non-maximum suppression: cls[x] = kCandidate where the magnitude is >= low, the pixel is in
// the eroded mask (ok[x] != 0; ok == nullptr: no mask) and it is a local maximum along the gradient; kNotEdge
// elsewhere, first and last pixels included. Offsets y * stride + x of candidates >= high are appended to
// `strong`. Vectorised: all four neighbour cases are computed and selected per lane; fp-contract is off so
// the interpolation rounds as the scalar reference (see detail::interp_le).

#if SEGEN_HAVE_VECTOR_EXT
template <class F>
struct NmsVec {
  static constexpr int L = detail::Vec<F>::lanes;
  using V = detail::vec_t<F>;
  typedef double VD __attribute__((vector_size(L * 8)));  // the lanes in double
  using I = std::conditional_t<sizeof(F) == 4, std::int32_t, std::int64_t>;
  typedef I M __attribute__((vector_size(32)));
};
#endif

template <detail::CpuLevel kLevel, class F>
SEGEN_ALWAYS_INLINE SEGEN_NO_CONTRACT void nms_row_impl(const F* m_up, const F* m, const F* m_dn, const F* gi, const F* gj,
                                    const std::uint8_t* ok, std::ptrdiff_t w, F low, F high, std::uint8_t* cls,
                                    std::ptrdiff_t offset, std::vector<std::ptrdiff_t>& strong,
                                    std::ptrdiff_t* scratch) {
  (void)scratch;  // used by the AVX2 and AVX-512 paths only (room for w + 8 offsets)
  cls[0] = detail::kNotEdge;
  cls[w - 1] = detail::kNotEdge;
  std::ptrdiff_t x = 1;
#if SEGEN_CANNY_HAVE_AVX2
  if constexpr (std::is_same_v<F, double> && kLevel >= detail::CpuLevel::V3) {
    if constexpr (kLevel >= detail::CpuLevel::V4)
      x = detail::nms_row_avx512(m_up, m, m_dn, gi, gj, ok, w, low, high, cls, offset, strong, scratch);
    else
      x = detail::nms_row_avx2(m_up, m, m_dn, gi, gj, ok, w, low, high, cls, offset, strong, scratch);
    detail::nms_span<F>(m_up, m, m_dn, gi, gj, ok, x, w - 1, low, high, cls, offset, strong);
    return;
  }
#endif
#if SEGEN_HAVE_VECTOR_EXT
  using NV = NmsVec<F>;
  using V = typename NV::V;
  using VD = typename NV::VD;
  using M = typename NV::M;
  using I = typename NV::I;
  constexpr int L = NV::L;
  const V vlow = V{} + low, vhigh = V{} + high, zero = V{};
  auto candidates = [&](std::ptrdiff_t x, V& mc) {
    std::memcpy(&mc, m + x, sizeof(V));
    M cand = mc >= vlow;
    if (ok) {
      M okm;
      for (int l = 0; l < L; ++l) okm[l] = ok[x + l] ? I(-1) : I(0);
      cand &= okm;
    }
    return cand;
  };
  auto none = [](M a) {
    std::uint64_t any[4];
    std::memcpy(any, &a, 32);
    return (any[0] | any[1] | any[2] | any[3]) == 0;
  };
  // Pixels L at a time, given their candidate mask.
  auto suppress = [&](std::ptrdiff_t x, V mc, M cand) {
    V vi, vj, u0, u1, um, d0, d1, dm, c1, cm;
    std::memcpy(&vi, gi + x, sizeof(V));
    std::memcpy(&vj, gj + x, sizeof(V));
    std::memcpy(&u0, m_up + x, sizeof(V));
    std::memcpy(&u1, m_up + x + 1, sizeof(V));
    std::memcpy(&um, m_up + x - 1, sizeof(V));
    std::memcpy(&d0, m_dn + x, sizeof(V));
    std::memcpy(&d1, m_dn + x + 1, sizeof(V));
    std::memcpy(&dm, m_dn + x - 1, sizeof(V));
    std::memcpy(&c1, m + x + 1, sizeof(V));
    std::memcpy(&cm, m + x - 1, sizeof(V));
    const M up = !(vi <= zero), right = !(vj <= zero);
    const M same = up == right;  // cond1 of the reference
    const V ai = vi < zero ? -vi : vi, aj = vj < zero ? -vj : vj;
    // i-major cases (same & ai > aj, or !same & ai >= aj) use w = aj / ai, the others ai / aj.
    const M imajor = same ? M(ai > aj) : M(!(ai < aj));
    const V wv = (imajor ? aj : ai) / (imajor ? ai : aj);  // one division (the same quotient per lane)
    const V n12 = same ? d1 : u1;
    const V n22 = same ? um : dm;
    const V n11 = imajor ? (same ? d0 : u0) : c1;
    const V n21 = imajor ? (same ? u0 : d0) : cm;
    M keep;
    if constexpr (sizeof(F) == 4) {
      // n * w rounded in float, the rest in double, as the reference.
      const V a1 = n12 * wv, a2 = n22 * wv;
      const VD wd = __builtin_convertvector(wv, VD), md = __builtin_convertvector(mc, VD);
      const VD one_minus = (VD{} + 1.0) - wd;
      const VD p1 = __builtin_convertvector(a1, VD) + __builtin_convertvector(n11, VD) * one_minus;
      const VD p2 = __builtin_convertvector(a2, VD) + __builtin_convertvector(n21, VD) * one_minus;
      const auto k = (p1 <= md) & (p2 <= md);  // 64-bit lanes
      for (int l = 0; l < L; ++l) keep[l] = k[l] ? I(-1) : I(0);
    } else {
      const V one_minus = (V{} + 1.0) - wv;
      const V p1 = n12 * wv + n11 * one_minus;
      const V p2 = n22 * wv + n21 * one_minus;
      keep = (p1 <= mc) & (p2 <= mc);
    }
    keep &= cand;
    const M strong_m = keep & (mc >= vhigh);
    typedef std::int8_t C __attribute__((vector_size(L)));
    const C c = __builtin_convertvector(keep, C) & static_cast<std::int8_t>(detail::kCandidate);  // masks are -1
    std::memcpy(cls + x, &c, L);
    if (!none(strong_m)) {
      for (int l = 0; l < L; ++l)
        if (strong_m[l]) strong.push_back(offset + x + l);
    }
  };
  // Two vectors per test: candidates come in runs along edges, and one unpredictable branch per 2 L
  // pixels costs less than one per L.
  for (; x + 2 * L <= w - 1; x += 2 * L) {
    V m0, m1;
    const M c0 = candidates(x, m0), c1 = candidates(x + L, m1);
    if (none(c0 | c1)) {
      std::memset(cls + x, detail::kNotEdge, 2 * L);
      continue;
    }
    suppress(x, m0, c0);
    suppress(x + L, m1, c1);
  }
  for (; x + L <= w - 1; x += L) {
    V mc;
    const M cand = candidates(x, mc);
    if (none(cand)) {
      std::memset(cls + x, detail::kNotEdge, L);
      continue;
    }
    suppress(x, mc, cand);
  }
#endif
  detail::nms_span<F>(m_up, m, m_dn, gi, gj, ok, x, w - 1, low, high, cls, offset, strong);
}

#define SEGEN_NMS_ROW(F)                                                                                   \
  SEGEN_MULTIVERSION(V4, SEGEN_NO_CONTRACT, void, nms_row,                                               \
                     (const F* m_up, const F* m, const F* m_dn, const F* gi, const F* gj,                \
                      const std::uint8_t* ok, std::ptrdiff_t w, F low, F high, std::uint8_t* cls,        \
                      std::ptrdiff_t offset, std::vector<std::ptrdiff_t>& strong, std::ptrdiff_t* scratch), \
                     (m_up, m, m_dn, gi, gj, ok, w, low, high, cls, offset, strong, scratch)) {          \
    nms_row_impl<kLevel, F>(m_up, m, m_dn, gi, gj, ok, w, low, high, cls, offset, strong, scratch);      \
  }
SEGEN_NMS_ROW(float)
SEGEN_NMS_ROW(double)
#undef SEGEN_NMS_ROW

/// Smallest block of rows of the Canny pipeline: each block smooths two rows and converts 2 + 2 r input
/// rows beyond its own, so blocks of 128 rows keep that halo to a few per cent.
constexpr std::ptrdiff_t kCannyRows = 128;

/// skimage.feature.canny's smoothed image, streamed row by row: the Gaussian of the image scaled to [0, 1]
/// (masked pixels set to 0), divided by the Gaussian of the mask (or of an all-ones image in constant mode)
/// plus the float type's epsilon. Each thread keeps the 2r + 1 converted input rows of the current output
/// row in a ring, so every input row is converted once per block and the vertical pass reads cached rows.
template <class T, class W>
class CannySmoother {
 public:
  CannySmoother(ImageView<const T> image, const CannyOptions& opt, ImageView<const std::uint8_t> mask,
                const std::vector<double>& weights)
      : image_(image), mask_(mask), mode_(opt.mode), cval_(opt.cval), h_(image.height), w_(image.width),
        stride_(detail::plane_stride<double>(image.width)) {
    r_ = static_cast<int>(weights.size() / 2);
    for (int j = 0; j <= r_; ++j) wl_.push_back(weights[static_cast<std::size_t>(r_ - j)]);
    if constexpr (std::is_integral_v<T>) scale_ = 1.0 / static_cast<double>(std::numeric_limits<T>::max());
    // scikit-image adds the epsilon of its float type: float32 for float32 images, float64 otherwise.
    eps_ = static_cast<W>(std::numeric_limits<W>::epsilon());
    bleed_ = mask.data != nullptr || mode_ == Border::Constant;
  }

  /// State of one thread's stream.
  struct Scratch {
    std::vector<double> rows, mrows, ext;  // rings of 2r + 1 input rows (image, mask); extended row
    std::vector<W> brow, mout, ones;       // divisor row, smoothed mask row, cached all-ones divisor row
    std::vector<const double*> taps;
    std::ptrdiff_t next = 0;  // next input row (unresolved index) to convert into the ring
    double ones_v = std::numeric_limits<double>::quiet_NaN();  // vertical sum that `ones` was built for
    std::ptrdiff_t in0 = 0, in1 = 0;  // columns [in0, in1) of `brow` hold one number
  };

  /// Start a stream whose first output row is y0.
  void begin(std::ptrdiff_t y0, Scratch& s) const {
    const std::size_t ring = static_cast<std::size_t>(2 * r_ + 1) * static_cast<std::size_t>(stride_);
    s.rows.resize(ring);
    if (mask_.data) s.mrows.resize(ring), s.mout.resize(static_cast<std::size_t>(w_));
    s.ext.resize(static_cast<std::size_t>(w_ + 2 * r_));
    if (bleed_) s.brow.resize(static_cast<std::size_t>(w_));
    s.taps.resize(static_cast<std::size_t>(2 * r_ + 1));
    s.next = y0 - r_;
  }

  /// Smoothed row y into `out`; rows are asked for in increasing order, each once, from begin()'s y0 on.
  void row(std::ptrdiff_t y, Scratch& s, W* out) const {
    const std::ptrdiff_t w = w_;
    const bool masked = mask_.data != nullptr;
    // Input rows as scipy sees them: scaled to [0, 1], masked pixels 0, rows outside the image resolved by
    // the border rule (cval rows for constant mode).
    for (; s.next <= y + r_; ++s.next) {
      double* d = slot(s.rows, s.next);
      double* dm = masked ? slot(s.mrows, s.next) : nullptr;
      const std::ptrdiff_t yy = border_index(s.next, h_, mode_);
      if (yy < 0) {
        std::fill(d, d + w, cval_);
        if (dm) std::fill(dm, dm + w, cval_);
        continue;
      }
      convert_row(image_.row(yy), masked ? mask_.row(yy) : nullptr, scale_, d, dm, w);
    }
    if (masked) {
      smooth_row(s.rows, y, s, out);
      smooth_row(s.mrows, y, s, s.mout.data());
      divide_row(out, s.mout.data(), eps_, w);
    } else if (!bleed_) {
      smooth_row(s.rows, y, s, out);
    } else {
      // The horizontal pass and the division in one where the level has it (hpass_div), else one after
      // the other.
      const W* d = ones_row(y, s);
      double* e = vsmooth(s.rows, y, s);
      if (!hpass_div(e, wl_.data(), r_, out, w, d, s.in0, s.in1)) {
        hpass(e, wl_.data(), r_, out, w);
        divide(d, out);
      }
    }
  }

 private:
  // A row of the unmasked image divided by `d`, its row of the Gaussian of the ones (constant mode).
  void divide(const W* d, W* out) const { divide_row(out, d, W(0), w_); }

  double* slot(std::vector<double>& ring, std::ptrdiff_t u) const {
    const std::ptrdiff_t n = 2 * r_ + 1;
    return ring.data() + ((u % n + n) % n) * stride_;
  }

  // Vertical then horizontal pass for output row y from the ring.
  void smooth_row(std::vector<double>& ring, std::ptrdiff_t y, Scratch& s, W* out) const {
    hpass(vsmooth(ring, y, s), wl_.data(), r_, out, w_);
  }

  // Vertical pass for output row y from the ring into s.ext, extended by r samples on each side following
  // the border rule (the horizontal pass's input).
  double* vsmooth(std::vector<double>& ring, std::ptrdiff_t y, Scratch& s) const {
    const std::ptrdiff_t w = w_;
    for (int j = -r_; j <= r_; ++j) s.taps[static_cast<std::size_t>(j + r_)] = slot(ring, y + j);
    double* e = s.ext.data();
    vpass(s.taps.data(), wl_.data(), r_, e + r_, w, W(0));
    for (std::ptrdiff_t i = 1; i <= r_; ++i) {
      const std::ptrdiff_t lft = border_index(-i, w, mode_), rgt = border_index(w - 1 + i, w, mode_);
      e[r_ - i] = lft < 0 ? cval_ : e[r_ + lft];
      e[r_ + w - 1 + i] = rgt < 0 ? cval_ : e[r_ + rgt];
    }
    return e;
  }

  // Row y of (Gaussian of an all-ones image with constant border cval) + eps, with scipy's rounding: the
  // vertical pass depends on y only (one value v), the horizontal one on x only near the borders, so the
  // row is rebuilt only when v changes (near the top and bottom rows).
  const W* ones_row(std::ptrdiff_t y, Scratch& s) const {
    auto sum = [&](auto value) {  // x[0] w0 + sum over pairs, outermost first, as scipy
      double acc = value(0) * wl_[0];
      for (int j = r_; j >= 1; --j) acc += (value(-j) + value(j)) * wl_[static_cast<std::size_t>(j)];
      return acc;
    };
    const double v = static_cast<double>(static_cast<W>(sum([&](int j) {
      const std::ptrdiff_t u = y + j;
      return u >= 0 && u < h_ ? 1.0 : cval_;
    })));
    std::vector<W>& out = s.brow;
    if (v == s.ones_v) return out.data();  // (v is never NaN: cval and the weights are finite)
    s.ones_v = v;
    auto at = [&](std::ptrdiff_t x) {
      return static_cast<W>(sum([&](int j) {
               const std::ptrdiff_t u = x + j;
               return u >= 0 && u < w_ ? v : cval_;
             })) +
             eps_;
    };
    const std::ptrdiff_t x0 = std::min<std::ptrdiff_t>(r_, w_), x1 = std::max(x0, w_ - r_);
    s.in0 = x0;
    s.in1 = x1;
    for (std::ptrdiff_t x = 0; x < x0; ++x) out[static_cast<std::size_t>(x)] = at(x);
    if (x1 > x0) std::fill(out.begin() + x0, out.begin() + x1, at(x0));
    for (std::ptrdiff_t x = x1; x < w_; ++x) out[static_cast<std::size_t>(x)] = at(x);
    return out.data();
  }

  ImageView<const T> image_;
  ImageView<const std::uint8_t> mask_;
  Border mode_;
  double cval_;
  std::ptrdiff_t h_, w_;
  std::ptrdiff_t stride_;  // of the rings' rows: not a multiple of 4 KiB, so the rows map to different L1 sets
  int r_ = 0;
  std::vector<double> wl_;
  double scale_ = 1.0;
  W eps_ = 0;
  bool bleed_ = false;
};

/// Gradients of rows g0..g1 (inclusive) of one block, streamed: each smoothed row is computed once (rows
/// g0 - 1 .. g1 + 1, clamped to the image; Sobel reflects rows outside it onto the first / last row), and
/// `fn(g)` is called for every row in order with its gradients and squared magnitude (the magnitude itself
/// if `root`) in the ring, where they stay valid until row g + 3 is computed (a ring of `slots` >= 3 rows
/// that the caller may index by g).
template <class T, class W, class Fn>
void canny_gradient_rows(const CannySmoother<T, W>& smoother, std::ptrdiff_t h, std::ptrdiff_t w, std::ptrdiff_t g0,
                         std::ptrdiff_t g1, typename CannySmoother<T, W>::Scratch& scratch, std::vector<W>& sm,
                         W* const* gi, W* const* gj, W* const* m2, int slots, bool root, Fn&& fn) {
  const std::size_t ws = static_cast<std::size_t>(detail::plane_stride<W>(w));  // see CannySmoother::stride_
  sm.resize(3 * ws);
  auto srow = [&](std::ptrdiff_t v) {
    v = std::min(std::max<std::ptrdiff_t>(v, 0), h - 1);
    return sm.data() + static_cast<std::size_t>(v % 3) * ws;
  };
  std::ptrdiff_t s_next = std::max<std::ptrdiff_t>(0, g0 - 1);
  smoother.begin(s_next, scratch);
  for (std::ptrdiff_t g = g0; g <= g1; ++g) {
    for (; s_next <= std::min(h - 1, g + 1); ++s_next) smoother.row(s_next, scratch, srow(s_next));
    const std::size_t k = static_cast<std::size_t>(g % slots);
    sobel_row(srow(g - 1), srow(g), srow(g + 1), w, gi[k], gj[k], m2[k], root);
    fn(g);
  }
}

// The checks shared by canny_into and local_binary_pattern_into: a non-empty grey `image` and an `out` of
// its shape that does not overlap it.
template <class T>
void require_grey_image_and_out(ImageView<const T> image, ImageView<std::uint8_t> out) {
  detail::require_nonempty(image, "image");
  if (image.channels != 1)
    throw InvalidArgument("`image` must be grey (one channel); got " + std::to_string(image.channels) +
                          " channels");
  detail::require_same_shape(image, out, "image", "out");
  detail::require_no_overlap(image, out, "image", "out");
}

}  // namespace

template <class T>
void canny_into(ImageView<const T> image, ImageView<std::uint8_t> out, const CannyOptions& opt,
                ImageView<const std::uint8_t> mask) {
  // scikit-image's working type: float32 for float32 images, float64 for the others.
  using W = std::conditional_t<std::is_same_v<T, float>, float, double>;
  require_grey_image_and_out(image, out);
  const bool masked = mask.data != nullptr;
  if (masked && (mask.height != image.height || mask.width != image.width || mask.channels != 1))
    throw InvalidArgument("`mask` must have shape " + detail::shape_str(image.height, image.width, 1) + "; got " +
                          detail::shape_str(mask.height, mask.width, mask.channels));
  if (!(std::isfinite(opt.sigma) && opt.sigma >= 0))
    throw InvalidArgument("`sigma` must be finite and >= 0; got " + detail::format_number(opt.sigma));
  require_finite(opt.cval, "cval");
  std::vector<double> weights = opt.gaussian_weights;
  if (weights.empty()) {
    weights = opt.sigma > 0 ? gaussian_kernel(opt.sigma, 4.0, 0) : std::vector<double>{1.0};
  } else {
    bool ok = weights.size() % 2 == 1;
    for (double v : weights) ok = ok && std::isfinite(v);
    if (!ok)
      throw InvalidArgument("`gaussian_weights` must have an odd number of finite weights; got " +
                            std::to_string(weights.size()) + " weights");
  }
  // Thresholds in the units of the image scaled to [0, 1] (dtype max -> 1), as scikit-image.
  const double dmax = std::is_integral_v<T> ? static_cast<double>(std::numeric_limits<T>::max()) : 1.0;
  double lo = opt.low_threshold, hi = opt.high_threshold;
  for (auto [v, name] : {std::pair<double, const char*>{lo, "low_threshold"}, {hi, "high_threshold"}}) {
    if (std::isnan(v)) continue;
    if (!std::isfinite(v) || v < 0 || (opt.use_quantiles && v > 1))
      throw InvalidArgument(std::string("`") + name + "` must be " +
                            (opt.use_quantiles ? "a quantile in [0, 1]" : "finite and >= 0") + "; got " + detail::format_number(v));
  }
  lo = std::isnan(lo) ? 0.1 : (opt.use_quantiles ? lo : lo / dmax);
  hi = std::isnan(hi) ? 0.2 : (opt.use_quantiles ? hi : hi / dmax);
  if (hi < lo)
    throw InvalidArgument("`low_threshold` must be <= `high_threshold`; got " + detail::format_number(lo) + " > " + detail::format_number(hi) +
                          (opt.use_quantiles ? "" : " (relative to the dtype maximum)"));

  const std::ptrdiff_t h = image.height, w = image.width;
  const std::size_t wn = static_cast<std::size_t>(w);
  const CannySmoother<T, W> smoother(image, opt, mask, weights);
  using Scratch = typename CannySmoother<T, W>::Scratch;

  if (opt.use_quantiles) {  // the thresholds are quantiles of the whole magnitude image
    std::vector<W> all(static_cast<std::size_t>(h) * wn);
    parallel_for(h, [&](std::ptrdiff_t b0, std::ptrdiff_t b1) {
      Scratch scratch;
      std::vector<W> sm, gi(wn), gj(wn), m2(wn);
      W* pi = gi.data();
      W* pj = gj.data();
      W* pm = m2.data();
      canny_gradient_rows<T, W>(smoother, h, w, b0, b1 - 1, scratch, sm, &pi, &pj, &pm, 1, false,
                                [&](std::ptrdiff_t g) { sqrt_row(m2.data(), all.data() + g * w, w); });
    }, kCannyRows);
    const double qlo = detail::percentile_linear(all, lo);
    const double qhi = detail::percentile_linear(all, hi);
    lo = qlo;
    hi = qhi;
  }
  // scikit-image compares with the low threshold as a C float, 0 replaced by 1e-14.
  W low = static_cast<W>(static_cast<float>(lo));
  if (static_cast<float>(lo) == 0.0f) low = static_cast<W>(1e-14f);
  const W high = static_cast<W>(hi);

  // Smoothing, gradients, non-maximum suppression and the hysteresis within the block, block by block;
  // candidates go straight into `out`. Edges on a block's first and last rows are collected to continue
  // the flood fill across blocks afterwards.
  std::vector<std::ptrdiff_t> border_edges;
  std::mutex border_mutex;
  parallel_for(h, [&](std::ptrdiff_t b0, std::ptrdiff_t b1) {
    Scratch scratch;
    const std::size_t ws = static_cast<std::size_t>(detail::plane_stride<W>(w));  // see CannySmoother::stride_
    std::vector<W> sm, ring(9 * ws);  // gi, gj, magnitude for rows y - 1, y, y + 1
    W* gi[3];
    W* gj[3];
    W* mg[3];
    for (int k = 0; k < 3; ++k) {
      gi[k] = ring.data() + static_cast<std::size_t>(3 * k) * ws;
      gj[k] = gi[k] + ws;
      mg[k] = gj[k] + ws;
    }
    std::vector<std::uint8_t> ok(masked ? wn : 0), col(ok.size());
    std::vector<std::ptrdiff_t> strong, stack, stack_b, border, row_strong(wn + 8);
    for (std::ptrdiff_t y = b0; y < b1; ++y) {
      if (y == 0 || y == h - 1 || w < 3) std::fill(out.row(y), out.row(y) + w, detail::kNotEdge);
    }
    // Non-maximum suppression of row y = g - 1 once the gradients of row g are known.
    const std::ptrdiff_t g0 = std::max<std::ptrdiff_t>(b0 - 1, 0), g1 = std::min(b1, h - 1);
    canny_gradient_rows<T, W>(smoother, h, w, g0, g1, scratch, sm, gi, gj, mg, 3, true, [&](std::ptrdiff_t g) {
      const std::ptrdiff_t y = g - 1;
      if (y < b0 || y < 1 || y >= h - 1 || w < 3) return;
      const std::uint8_t* okp = nullptr;
      if (masked) {  // 3x3 erosion of the mask (outside the image counts as masked out)
        const std::uint8_t *a = mask.row(y - 1), *b = mask.row(y), *c = mask.row(y + 1);
        for (std::ptrdiff_t x = 0; x < w; ++x)
          col[static_cast<std::size_t>(x)] = (a[x] != 0) & (b[x] != 0) & (c[x] != 0);
        ok[0] = ok[wn - 1] = 0;
        for (std::size_t x = 1; x + 1 < wn; ++x) ok[x] = col[x - 1] & col[x] & col[x + 1];
        okp = ok.data();
      }
      const std::size_t s = static_cast<std::size_t>(y % 3);
      nms_row(mg[(y + 2) % 3], mg[s], mg[g % 3], gi[s], gj[s], okp, w, low, high, out.row(y), y * out.stride,
              strong, row_strong.data());
    });
    detail::hysteresis_rows(out.data, out.stride, b0 * out.stride, b1 * out.stride, strong, stack, stack_b,
                            border);
    std::lock_guard<std::mutex> lk(border_mutex);
    border_edges.insert(border_edges.end(), border.begin(), border.end());
  }, kCannyRows);

  // The flood fill across blocks (serial; the edges do not depend on the order of the seeds), then 0/1.
  std::vector<std::ptrdiff_t> stack;
  detail::grow_edges(out.data, out.stride, border_edges, stack);
  static_assert(detail::kEdge == 1 && detail::kCandidate == 2 && detail::kNotEdge == 0, "the mask below");
  parallel_for(h, [&](std::ptrdiff_t y0, std::ptrdiff_t y1) {
    const std::ptrdiff_t n = w;  // a local: the byte stores below could alias a captured width
    for (std::ptrdiff_t y = y0; y < y1; ++y) {
      std::uint8_t* __restrict o = out.row(y);
      for (std::ptrdiff_t x = 0; x < n; ++x) o[x] &= 1;  // kEdge stays, kCandidate becomes kNotEdge
    }
  }, 64);
}

template <class T>
Image<std::uint8_t> canny(ImageView<const T> image, const CannyOptions& opt, ImageView<const std::uint8_t> mask) {
  Image<std::uint8_t> out(image.height, image.width, 1);
  canny_into<T>(image, out.view(), opt, mask);
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Local binary patterns

namespace {

// Code of each 8-bit pattern for LbpMethod::Uniform: the number of set bits where the circular pattern has
// at most two 0/1 transitions, else 9.
const std::array<std::uint8_t, 256>& lbp_uniform_codes() {
  static const std::array<std::uint8_t, 256> codes = [] {
    std::array<std::uint8_t, 256> c{};
    for (unsigned b = 0; b < 256; ++b) {
      const unsigned rotated = ((b >> 1) | (b << 7)) & 0xFFu;
      int ones = 0, flips = 0;
      for (int i = 0; i < 8; ++i) {
        ones += static_cast<int>((b >> i) & 1u);
        flips += static_cast<int>(((b ^ rotated) >> i) & 1u);
      }
      c[b] = static_cast<std::uint8_t>(flips <= 2 ? ones : 9);
    }
    return c;
  }();
  return codes;
}

// Image row y (clamped to the image) in float, with one replicated pixel on each side: dst[x + 1] = row[x].
template <class T>
void lbp_load_row(ImageView<const T> image, std::ptrdiff_t y, float* dst) {
  y = std::clamp<std::ptrdiff_t>(y, 0, image.height - 1);
  const T* src = image.row(y);
  const std::ptrdiff_t w = image.width;
  for (std::ptrdiff_t x = 0; x < w; ++x) dst[x + 1] = static_cast<float>(src[x]);
  dst[0] = dst[1];
  dst[w + 1] = dst[w];
}

// Codes of one row from the padded rows above (a), at (b) and below (c). Every difference and product is
// rounded in float on its own, as the numpy reference (float32 arrays) rounds them.
SEGEN_NO_CONTRACT void lbp_row(const float* a, const float* b, const float* c, std::ptrdiff_t w, float t,
                               const std::uint8_t* lut, std::uint8_t* out) {
  const float s = static_cast<float>(std::sqrt(0.5));
  const float q = 1.0f - s;
  const float sq = s * q, ss = s * s;
  for (std::ptrdiff_t x = 0; x < w; ++x) {
    const std::ptrdiff_t i = x + 1;
    const float cen = b[i];
    const float dr = b[i + 1] - cen, du = a[i] - cen, dl = b[i - 1] - cen, dd = c[i] - cen;
    const float dur = sq * (du + dr) + ss * (a[i + 1] - cen);
    const float dul = sq * (du + dl) + ss * (a[i - 1] - cen);
    const float ddl = sq * (dd + dl) + ss * (c[i - 1] - cen);
    const float ddr = sq * (dd + dr) + ss * (c[i + 1] - cen);
    const unsigned p = static_cast<unsigned>(dr >= t) | static_cast<unsigned>(dur >= t) << 1 |
                       static_cast<unsigned>(du >= t) << 2 | static_cast<unsigned>(dul >= t) << 3 |
                       static_cast<unsigned>(dl >= t) << 4 | static_cast<unsigned>(ddl >= t) << 5 |
                       static_cast<unsigned>(dd >= t) << 6 | static_cast<unsigned>(ddr >= t) << 7;
    out[x] = lut[p];
  }
}

}  // namespace

template <class T>
void local_binary_pattern_into(ImageView<const T> image, ImageView<std::uint8_t> out, LbpMethod method,
                               double threshold) {
  require_grey_image_and_out(image, out);
  if (method != LbpMethod::Uniform && method != LbpMethod::Default)
    throw InvalidArgument("`method` must be LbpMethod::Uniform or LbpMethod::Default; got " +
                          std::to_string(static_cast<int>(method)));
  if (!(std::isfinite(threshold) && threshold >= 0))
    throw InvalidArgument("`threshold` must be finite and >= 0; got " + detail::format_number(threshold));
  std::array<std::uint8_t, 256> identity{};
  for (unsigned b = 0; b < 256; ++b) identity[b] = static_cast<std::uint8_t>(b);
  const std::uint8_t* lut = method == LbpMethod::Uniform ? lbp_uniform_codes().data() : identity.data();
  const float t = static_cast<float>(threshold);
  const std::ptrdiff_t w = image.width;
  parallel_for(image.height, [&](std::ptrdiff_t y0, std::ptrdiff_t y1) {
    std::vector<float> buf(3 * static_cast<std::size_t>(w + 2));
    float* rows[3] = {buf.data(), buf.data() + (w + 2), buf.data() + 2 * (w + 2)};
    lbp_load_row(image, y0 - 1, rows[0]);
    lbp_load_row(image, y0, rows[1]);
    for (std::ptrdiff_t y = y0; y < y1; ++y) {
      lbp_load_row(image, y + 1, rows[2]);
      lbp_row(rows[0], rows[1], rows[2], w, t, lut, out.row(y));
      std::swap(rows[0], rows[1]);  // the rows above and at y + 1
      std::swap(rows[1], rows[2]);
    }
  }, 16);
}

template <class T>
Image<std::uint8_t> local_binary_pattern(ImageView<const T> image, LbpMethod method, double threshold) {
  Image<std::uint8_t> out(image.height, image.width, 1);
  local_binary_pattern_into<T>(image, out.view(), method, threshold);
  return out;
}

#define SEGEN_INSTANTIATE(T)                                                                                  \
  template SEGEN_API void gabor_into<T>(ImageView<const T>, ImageView<feature_float_t<T>>,                    \
                                        ImageView<feature_float_t<T>>, const GaborOptions&);                  \
  template SEGEN_API GaborResponse<feature_float_t<T>> gabor<T>(ImageView<const T>, const GaborOptions&);     \
  template SEGEN_API void gabor_bank_into<T>(ImageView<const T>, const GaborBankOptions&, ImageView<float>);  \
  template SEGEN_API Image<float> gabor_bank<T>(ImageView<const T>, const GaborBankOptions&);                 \
  template SEGEN_API void color_histogram_into<T>(ImageView<const T>, ImageView<double>,                      \
                                                  ImageView<const std::uint8_t>, bool);                       \
  template SEGEN_API Image<double> color_histogram<T>(ImageView<const T>, int, int, int,                      \
                                                      ImageView<const std::uint8_t>, bool);                   \
  template SEGEN_API void canny_into<T>(ImageView<const T>, ImageView<std::uint8_t>, const CannyOptions&,     \
                                        ImageView<const std::uint8_t>);                                       \
  template SEGEN_API Image<std::uint8_t> canny<T>(ImageView<const T>, const CannyOptions&,                    \
                                                  ImageView<const std::uint8_t>);                             \
  template SEGEN_API void local_binary_pattern_into<T>(ImageView<const T>, ImageView<std::uint8_t>,           \
                                                       LbpMethod, double);                                    \
  template SEGEN_API Image<std::uint8_t> local_binary_pattern<T>(ImageView<const T>, LbpMethod, double);
SEGEN_FOR_PIXEL_TYPES(SEGEN_INSTANTIATE)
#undef SEGEN_INSTANTIATE

}  // namespace segen
