#include "segen/color.hpp"

#include <algorithm>  // std::min, std::max
#include <cctype>     // std::toupper
#include <cmath>      // std::pow, std::floor
#include <cstdint>
#include <cstring>    // std::memcpy
#include <limits>     // std::numeric_limits
#include <vector>     // std::vector

#if defined(__linux__)
#include <sys/mman.h>  // mincore
#include <unistd.h>    // sysconf
#endif

#include "detail/color_avx2.hpp"
#include "detail/color_avx512.hpp"
#include "detail/color_hsv.hpp"
#include "detail/common.hpp"
#include "segen/parallel.hpp"

namespace segen {
namespace {

using u8 = std::uint8_t;
using u16 = std::uint16_t;

// ---- shared plumbing -------------------------------------------------------------------------

/// Factor that brings a sample of type T to [0, 1] (img_as_float's scaling).
template <class T, class W>
constexpr W unit_scale() {
  if constexpr (std::is_same_v<T, u8>) return W(1) / W(255);
  else if constexpr (std::is_same_v<T, u16>) return W(1) / W(65535);
  else return W(1);
}

template <class T>
void require_rgb(ImageView<const T> src) {
  detail::require_nonempty(src, "image");
  if (src.channels != 3)
    throw InvalidArgument("`image` must have 3 channels; got " + std::to_string(src.channels) +
                          (src.channels == 4 ? " (drop or blend the alpha channel first)" : ""));
}

/// Outputs of at least this many bytes, whose memory is already in place, are written with non-temporal
/// stores by the rows that have them (the vector HSV rows): far larger than what the caches would keep for
/// the caller, so the stores can skip reading each output line first. 2048 x 2048 float32 rgb2hsv (48 MiB
/// out) at 1 thread into `out=`: 3.0 -> 2.8 ms on an idle host, 7.2-7.5 -> 5.4-6.7 ms on a busier one; at
/// 12 MiB no change; at 3 MiB 5 % slower, hence the bar. A fresh output is not streamed (pages_resident).
constexpr std::ptrdiff_t kStreamBytes = std::ptrdiff_t(16) << 20;

/// Whether the memory [p, p + bytes) is already in place, judged by its first, middle and last pages. A
/// fresh output is not: each of its pages is mapped and zeroed by the kernel on the first write, which
/// leaves the zeroed lines in cache, where ordinary stores then land; non-temporal stores had to evict
/// them, and were slower (2048 x 2048 float32 rgb2hsv into a fresh array at 1 / 2 threads: 16.2 / 8.7 ms
/// streamed, 11.3 / 6.4 ms not). Where this cannot be asked (not Linux), the memory counts as in place.
bool pages_resident(const void* p, std::size_t bytes) {
#if defined(__linux__)
  const long ps = sysconf(_SC_PAGESIZE);
  if (ps <= 0 || bytes == 0) return true;
  const std::uintptr_t page = static_cast<std::uintptr_t>(ps), a = reinterpret_cast<std::uintptr_t>(p);
  for (const std::uintptr_t at : {a, a + bytes / 2, a + bytes - 1}) {
    unsigned char v = 0;
    if (mincore(reinterpret_cast<void*>(at & ~(page - 1)), 1, &v) != 0 || (v & 1) == 0) return false;
  }
  return true;
#else
  (void)p, (void)bytes;
  return true;
#endif
}

/// Streaming pays for float input only: from uint8 or uint16 the AVX-512 rows prefetch the output instead,
/// which measured faster into a fresh array (rgb2hsv uint8 2048 x 2048: 7.6 ms, 7.9 ms streamed).
template <class T>
constexpr bool kStreamInput = std::is_floating_point_v<T>;

/// Run `row(const S* src, D* dst, n_pixels, stream)` over every pixel, in parallel. Contiguous images are
/// cut into fixed chunks of pixels (so one-column or very wide images parallelise alike); others go by
/// rows. The split depends on the image alone, never on the thread count. `stream`: the whole output has
/// kStreamBytes or more and its memory is in place (the values written do not depend on it).
template <class S, class D, class F>
void for_pixels(ImageView<const S> src, ImageView<D> out, F&& row) {
  const std::ptrdiff_t sc = src.channels, oc = out.channels;
  const std::ptrdiff_t item = static_cast<std::ptrdiff_t>(sizeof(D));
  const std::ptrdiff_t out_bytes = out.height * out.width * oc * item;
  const std::ptrdiff_t span = ((out.height - 1) * out.stride + out.width * oc) * item;  // first to last byte
  const bool stream = out_bytes >= kStreamBytes && pages_resident(out.data, static_cast<std::size_t>(span));
  if (src.contiguous() && out.contiguous()) {
    const std::ptrdiff_t n = src.height * src.width;
    constexpr std::ptrdiff_t kChunk = 16384;
    const std::ptrdiff_t chunks = (n + kChunk - 1) / kChunk;
    // Blocks of up to 4 MiB of output, fewer than 8 only for small images. A new output is faulted in by
    // its first writes, 2 MiB huge page by 2 MiB huge page, which the kernel zeroes while other threads
    // touching that page wait: with blocks of 1.5 MiB taken in turn, two threads met in a page at nearly
    // every block (rgb2hsv of 2048 x 2048 float32 at 2 threads: 7.5 ms, 6.1 ms with these blocks).
    const std::ptrdiff_t chunk_bytes = kChunk * oc * static_cast<std::ptrdiff_t>(sizeof(D));
    const std::ptrdiff_t grain =
        std::max<std::ptrdiff_t>(1, std::min(chunks / 8, (std::ptrdiff_t(4) << 20) / chunk_bytes));
    parallel_for(chunks, [&](std::ptrdiff_t c0, std::ptrdiff_t c1) {
      const std::ptrdiff_t p0 = c0 * kChunk, p1 = std::min(n, c1 * kChunk);
      row(src.data + p0 * sc, out.data + p0 * oc, p1 - p0, stream);
    }, grain);
    return;
  }
  parallel_for(src.height, [&](std::ptrdiff_t y0, std::ptrdiff_t y1) {
    for (std::ptrdiff_t y = y0; y < y1; ++y) row(src.row(y), out.row(y), src.width, stream);
  }, std::max<std::ptrdiff_t>(1, 16384 / std::max<std::ptrdiff_t>(1, src.width)));
}

template <class W>
SEGEN_ALWAYS_INLINE bool is_nan(W x) { return x != x; }
// Plain selects (std::max takes references, which can keep loops from vectorising).
template <class W>
SEGEN_ALWAYS_INLINE W vmax(W a, W b) { return a > b ? a : b; }
template <class W>
SEGEN_ALWAYS_INLINE W vmin(W a, W b) { return a < b ? a : b; }

// Pixels go through in blocks: de-interleave into planar arrays, compute with straight-line code and
// selects (which the compiler vectorises; every candidate value is computed, then chosen), interleave back.
constexpr std::ptrdiff_t kBlock = 256;

template <class T, class W>
SEGEN_ALWAYS_INLINE void load_planar(const T* __restrict s, W* __restrict R, W* __restrict G, W* __restrict B,
                                    std::ptrdiff_t m) {
  for (std::ptrdiff_t i = 0; i < m; ++i) {
    R[i] = W(s[3 * i]);
    G[i] = W(s[3 * i + 1]);
    B[i] = W(s[3 * i + 2]);
  }
}

template <class W>
SEGEN_ALWAYS_INLINE void store_interleaved(const W* __restrict A, const W* __restrict B, const W* __restrict C,
                                          W* __restrict d, std::ptrdiff_t m) {
  for (std::ptrdiff_t i = 0; i < m; ++i) {
    d[3 * i] = A[i];
    d[3 * i + 1] = B[i];
    d[3 * i + 2] = C[i];
  }
}

/// NaN when one of a, b, c is NaN, else 0 (infinities give 0).
template <class W>
SEGEN_ALWAYS_INLINE W nan_flag(W a, W b, W c) {
  return (a == a ? W(0) : a) + (b == b ? W(0) : b) + (c == c ? W(0) : c);
}

// ---- grey ------------------------------------------------------------------------------------

constexpr double kGrayR = 0.2125, kGrayG = 0.7154, kGrayB = 0.0721;

#if SEGEN_COLOR_HAVE_AVX2
/// d[0, m) = t[0, m), with non-temporal stores from the first 32-byte boundary of `d` on (ordinary ones
/// before it and for the last m % 8); the caller fences.
__attribute__((target("avx2"))) inline void stream_floats(const float* t, float* d, std::ptrdiff_t m) {
  std::ptrdiff_t i = 0;
  for (; i < m && reinterpret_cast<std::uintptr_t>(d + i) % 32 != 0; ++i) d[i] = t[i];
  for (; i + 8 <= m; i += 8) _mm256_stream_ps(d + i, _mm256_loadu_ps(t + i));
  for (; i < m; ++i) d[i] = t[i];
}
#endif

/// kStream (float input and output, x86-64-v3 and up): each block is computed into a buffer in cache, then
/// written with non-temporal stores (an output of 16 MiB or more already in place, as a reused result: the
/// stores skip reading each output line first). 2048 x 2048 float32 at 1 thread, p10: 2.39 -> 1.80 ms
/// alternating with OpenCV's call as in bench_core, 2.47 -> 1.87 ms in a loop over three photos.
template <class T, class W, bool kStream = false>
SEGEN_ALWAYS_INLINE void gray_impl(const T* s, W* d, std::ptrdiff_t n) {
  constexpr double k = unit_scale<T, double>();
  const W cr = W(kGrayR * k), cg = W(kGrayG * k), cb = W(kGrayB * k);
  alignas(64) W R[kBlock], G[kBlock], B[kBlock], tmp[kStream ? kBlock : 1];
  for (std::ptrdiff_t i0 = 0; i0 < n; i0 += kBlock) {
    const std::ptrdiff_t m = std::min(kBlock, n - i0);
    load_planar<T, W>(s + 3 * i0, R, G, B, m);
    W* __restrict db = kStream ? tmp : d + i0;
    for (std::ptrdiff_t i = 0; i < m; ++i) db[i] = R[i] * cr + G[i] * cg + B[i] * cb;
#if SEGEN_COLOR_HAVE_AVX2
    if constexpr (kStream) stream_floats(tmp, d + i0, m);
#endif
  }
#if SEGEN_COLOR_HAVE_AVX2
  if constexpr (kStream) _mm_sfence();
#endif
}

// ---- HSV -------------------------------------------------------------------------------------

// Hue/saturation/value of planar r, g, b (detail::hsv_pixels, one pixel at a time: the loop vectorises).
// For integer T the ratios are computed on the raw integers (H and S are scale-free) and only V is scaled.
template <class T, class W, bool kChecked>
SEGEN_ALWAYS_INLINE void hsv_planar(const W* __restrict R, const W* __restrict G, const W* __restrict B,
                                   W* __restrict H, W* __restrict S, W* __restrict V, std::ptrdiff_t n) {
  for (std::ptrdiff_t i = 0; i < n; ++i)
    detail::hsv_pixels<detail::HsvArith::Fast, kChecked, W>(R[i], G[i], B[i], unit_scale<T, W>(), H[i], S[i], V[i]);
}

template <class T, class W>
SEGEN_ALWAYS_INLINE void hsv_impl(const T* s, W* d, std::ptrdiff_t n) {
  alignas(64) W R[kBlock], G[kBlock], B[kBlock], H[kBlock], S[kBlock], V[kBlock];
  for (std::ptrdiff_t i0 = 0; i0 < n; i0 += kBlock) {
    const std::ptrdiff_t m = std::min(kBlock, n - i0);
    load_planar<T, W>(s + 3 * i0, R, G, B, m);
    if constexpr (std::is_floating_point_v<T>) {
      // Only NaN, infinite and huge inputs (|x| > max / 2, where max - min can overflow to inf and the hue
      // becomes inf / inf) can produce NaN: blocks without any take the unchecked path.
      constexpr W kHuge = std::numeric_limits<W>::max() / 2;
      int bad = 0;
      for (std::ptrdiff_t i = 0; i < m; ++i)
        bad |= int(!(std::fabs(R[i]) <= kHuge)) | int(!(std::fabs(G[i]) <= kHuge)) | int(!(std::fabs(B[i]) <= kHuge));
      if (bad) hsv_planar<T, W, true>(R, G, B, H, S, V, m);
      else hsv_planar<T, W, false>(R, G, B, H, S, V, m);
    } else {
      hsv_planar<T, W, false>(R, G, B, H, S, V, m);
    }
    store_interleaved<W>(H, S, V, d + 3 * i0, m);
  }
}

/// One channel of HSV -> RGB in closed form: v - v s w(k), k = (n + 6 h) mod 6, w = clamp(min(k, 4 - k), 0, 1)
/// (n = 5, 3, 1 for R, G, B). Equal to the six-sector table scikit-image uses, without branches.
template <class W>
SEGEN_ALWAYS_INLINE W hsv_channel(W n, W h6, W v, W vs) {
  W k = n + h6;
  k = k - W(6) * std::floor(k * (W(1) / W(6)));
  const W w = vmax(W(0), vmin(vmin(k, W(4) - k), W(1)));
  return v - vs * w;
}

template <class T, class W>
SEGEN_ALWAYS_INLINE void rgb_planar(const W* __restrict H, const W* __restrict S, const W* __restrict V,
                                   W* __restrict R, W* __restrict G, W* __restrict B, std::ptrdiff_t n) {
  constexpr W k = unit_scale<T, W>();
  for (std::ptrdiff_t i = 0; i < n; ++i) {
    W h = H[i] * k, sat = S[i] * k, v = V[i] * k;
    W nf = W(0);
    if constexpr (std::is_floating_point_v<T>) {
      nf = nan_flag(h, sat, v);  // NaN when a sample is: the whole pixel becomes NaN below
      // far outside [0, 1], v * s and 6 h overflow and inf - inf made NaN from finite samples: the samples
      // are clamped to +-kHsvLimit (beyond it a hue is a whole number, the same colour as the limit's)
      constexpr W lim = detail::kHsvLimit<W>;
      h = vmax(-lim, vmin(h, lim));
      sat = vmax(-lim, vmin(sat, lim));
      v = vmax(-lim, vmin(v, lim));
    }
    const W h6 = h * W(6), vs = v * sat;
    W r = hsv_channel(W(5), h6, v, vs), g = hsv_channel(W(3), h6, v, vs), b = hsv_channel(W(1), h6, v, vs);
    if constexpr (std::is_floating_point_v<T>) {
      r += nf;
      g += nf;
      b += nf;
    }
    R[i] = r;
    G[i] = g;
    B[i] = b;
  }
}

template <class T, class W>
SEGEN_ALWAYS_INLINE void hsv2rgb_impl(const T* s, W* d, std::ptrdiff_t n) {
  alignas(64) W H[kBlock], S[kBlock], V[kBlock], R[kBlock], G[kBlock], B[kBlock];
  for (std::ptrdiff_t i0 = 0; i0 < n; i0 += kBlock) {
    const std::ptrdiff_t m = std::min(kBlock, n - i0);
    load_planar<T, W>(s + 3 * i0, H, S, V, m);
    rgb_planar<T, W>(H, S, V, R, G, B, m);
    store_interleaved<W>(R, G, B, d + 3 * i0, m);
  }
}

// ---- Lab -------------------------------------------------------------------------------------

// sRGB -> XYZ (D65) matrix used by scikit-image (from the sRGB specification).
constexpr double kXyzFromRgb[3][3] = {{0.412453, 0.357580, 0.180423},
                                      {0.212671, 0.715160, 0.072169},
                                      {0.019334, 0.119193, 0.950227}};
constexpr double kLabEps = 0.008856, kLabKappa = 7.787, kLabOff = 16.0 / 116.0;

/// sRGB companding inverse: a non-linear [0, 1] sample to linear light.
inline double srgb_to_linear(double c) {
  return c > 0.04045 ? std::pow((c + 0.055) / 1.055, 2.4) : c / 12.92;
}

/// u^2.4 for u in [0.09, 1e30], vectorisable: u^2 * y with y = u^0.4 the root of y^5 = u^2, from a
/// bit-level first guess (within ~10%) and kSteps Halley steps (cubic convergence: ~1e-9 relative after
/// two, ample for float32 results; ~1e-16 after three).
template <int kSteps>
SEGEN_ALWAYS_INLINE double pow_2_4(double u) {
  const double a = u * u;
  const float uf = static_cast<float>(u);
  std::int32_t bits;
  std::memcpy(&bits, &uf, sizeof bits);
  bits = static_cast<std::int32_t>(static_cast<float>(bits) * 0.4f + 0.6f * 1065353216.0f);  // 1.0f's bits
  float yf;
  std::memcpy(&yf, &bits, sizeof yf);
  double y = yf;
  for (int it = 0; it < kSteps; ++it) {
    const double y2 = y * y, y5 = y2 * y2 * y;
    y = y * (4.0 * y5 + 6.0 * a) / (6.0 * y5 + 4.0 * a);
  }
  return a * y;
}

/// srgb_to_linear() without branches or calls, for float samples (the compiler vectorises it).
template <int kSteps>
SEGEN_ALWAYS_INLINE double srgb_to_linear_fast(double c) {
  const double lin = c * (1.0 / 12.92);
  const double u = (c + 0.055) * (1.0 / 1.055);
  const double p = pow_2_4<kSteps>(u < 0.09 ? 0.09 : (u > 1e30 ? 1e30 : u));
  return c > 0.04045 ? p + (c - c) : lin;  // c - c keeps +inf non-finite (NaN) despite the clamp
}

/// Cube root of a in [kLabEps, 1e30], vectorisable: a bit-level first guess (within ~4%) refined by two
/// Halley steps (cubic convergence: ~3e-5, then ~2e-14 relative).
SEGEN_ALWAYS_INLINE double cbrt_pos(double a) {
  const float af = static_cast<float>(a);
  std::int32_t bits;
  std::memcpy(&bits, &af, sizeof bits);
  bits = static_cast<std::int32_t>(static_cast<float>(bits) * (1.0f / 3.0f)) + 709921077;
  float yf;
  std::memcpy(&yf, &bits, sizeof yf);
  double y = yf;
  for (int it = 0; it < 2; ++it) {
    const double y3 = y * y * y;
    y = y * (y3 + 2.0 * a) / (2.0 * y3 + a);
  }
  return y;
}

SEGEN_ALWAYS_INLINE double lab_f(double t) {
  const double lin = kLabKappa * t + kLabOff;
  const double c = cbrt_pos(vmin(vmax(t, kLabEps), 1e30));
  return t > kLabEps ? c : lin;
}

struct LabParams {
  double m[3][3];  // XYZ-from-linear-RGB rows, each divided by the white point's component
};

/// Linear-light samples -> Lab. `lin` holds n RGB triplets of linear light; `bad[i]` flags NaN/inf input.
template <class W>
SEGEN_ALWAYS_INLINE void lab_from_linear(const double* lin, W* d, std::ptrdiff_t n, const LabParams& P) {
  for (std::ptrdiff_t i = 0; i < n; ++i) {
    const double r = lin[3 * i], g = lin[3 * i + 1], b = lin[3 * i + 2];
    const double x = P.m[0][0] * r + P.m[0][1] * g + P.m[0][2] * b;
    const double y = P.m[1][0] * r + P.m[1][1] * g + P.m[1][2] * b;
    const double z = P.m[2][0] * r + P.m[2][1] * g + P.m[2][2] * b;
    const double fx = lab_f(x), fy = lab_f(y), fz = lab_f(z);
    const double nf = (r - r) + (g - g) + (b - b);  // NaN when an input is NaN or infinite, else 0
    d[3 * i] = W(116.0 * fy - 16.0 + nf);
    d[3 * i + 1] = W(500.0 * (fx - fy) + nf);
    d[3 * i + 2] = W(200.0 * (fy - fz) + nf);
  }
}

/// Linearisation table for integer samples (256 or 65536 entries), built once.
template <class T>
const double* linear_table() {
  static const std::vector<double> table = [] {
    constexpr std::size_t n = std::size_t(std::numeric_limits<T>::max()) + 1;
    std::vector<double> t(n);
    for (std::size_t i = 0; i < n; ++i) t[i] = srgb_to_linear(double(i) / double(n - 1));
    return t;
  }();
  return table.data();
}

template <class T, class W>
SEGEN_ALWAYS_INLINE void lab_impl(const T* s, W* d, std::ptrdiff_t n, const LabParams& P) {
  constexpr std::ptrdiff_t kBlock = 256;
  double lin[3 * kBlock];
  const double* table = nullptr;
  if constexpr (!std::is_floating_point_v<T>) table = linear_table<T>();
  for (std::ptrdiff_t i0 = 0; i0 < n; i0 += kBlock) {
    const std::ptrdiff_t m = std::min(kBlock, n - i0);
    const T* sb = s + 3 * i0;
    if constexpr (std::is_floating_point_v<T>) {
      constexpr int kSteps = std::is_same_v<W, float> ? 2 : 3;
      for (std::ptrdiff_t j = 0; j < 3 * m; ++j) lin[j] = srgb_to_linear_fast<kSteps>(double(sb[j]));
    } else {
      for (std::ptrdiff_t j = 0; j < 3 * m; ++j) lin[j] = table[sb[j]];
    }
    lab_from_linear<W>(lin, d + 3 * i0, m, P);
  }
}

std::string upper(std::string s) {
  for (auto& ch : s) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  return s;
}

}  // namespace

// ---- hot loops: one function per type, compiled per CPU level (detail/dispatch.hpp) ---------------

// HSV <-> RGB rows: AVX-512 or AVX2/FMA kernels where the level has them (float output), else the portable
// loops. rgb2gray's loop, bound by memory, ran 2x slower as an AVX-512 copy, so it stops at AVX2;
// rgb2lab's (double-precision arithmetic, compute-bound) is 2x faster with AVX-512 (AMD Zen 5).
template <detail::CpuLevel kLevel, class T, class W>
SEGEN_ALWAYS_INLINE void hsv_row_at_level(const T* s, W* d, std::ptrdiff_t n, bool stream) {
#if SEGEN_COLOR_HAVE_AVX2
  if constexpr (!std::is_same_v<T, double> && kLevel >= detail::CpuLevel::V4) {
    detail::color_avx512::hsv_row<T>(s, d, n, unit_scale<T, float>(), stream && kStreamInput<T>);
    return;
  } else if constexpr (!std::is_same_v<T, double> && kLevel >= detail::CpuLevel::V3) {
    detail::color_avx2::hsv_row<T>(s, d, n, unit_scale<T, float>(), stream && kStreamInput<T>);
    return;
  }
#endif
  (void)stream;
  hsv_impl<T, W>(s, d, n);
}
template <detail::CpuLevel kLevel, class T, class W>
SEGEN_ALWAYS_INLINE void hsv2rgb_row_at_level(const T* s, W* d, std::ptrdiff_t n, bool stream) {
#if SEGEN_COLOR_HAVE_AVX2
  if constexpr (!std::is_same_v<T, double> && kLevel >= detail::CpuLevel::V4) {
    detail::color_avx512::hsv2rgb_row<T>(s, d, n, unit_scale<T, float>(), stream && kStreamInput<T>);
    return;
  } else if constexpr (!std::is_same_v<T, double> && kLevel >= detail::CpuLevel::V3) {
    detail::color_avx2::hsv2rgb_row<T>(s, d, n, unit_scale<T, float>(), stream && kStreamInput<T>);
    return;
  }
#endif
  (void)stream;
  hsv2rgb_impl<T, W>(s, d, n);
}

template <detail::CpuLevel kLevel, class T, class W>
SEGEN_ALWAYS_INLINE void gray_row_at_level(const T* s, W* d, std::ptrdiff_t n, bool stream) {
#if SEGEN_COLOR_HAVE_AVX2
  if constexpr (std::is_same_v<W, float> && kStreamInput<T> && kLevel >= detail::CpuLevel::V3) {
    if (stream) {
      gray_impl<T, W, true>(s, d, n);
      return;
    }
  }
#endif
  (void)stream;
  gray_impl<T, W>(s, d, n);
}

namespace detail {
// `top`: the highest level with its own copy of the HSV rows (double has no vector kernels).
#define SEGEN_COLOR_ROWS(T, W, top)                                                                          \
  SEGEN_MULTIVERSION(V3, , void, color_gray_row, (const T* s, W* d, std::ptrdiff_t n, bool stream),          \
                     (s, d, n, stream)) {                                                                    \
    gray_row_at_level<kLevel, T, W>(s, d, n, stream);                                                        \
  }                                                                                                          \
  SEGEN_MULTIVERSION(top, , void, color_hsv_row, (const T* s, W* d, std::ptrdiff_t n, bool stream),          \
                     (s, d, n, stream)) {                                                                    \
    hsv_row_at_level<kLevel, T, W>(s, d, n, stream);                                                         \
  }                                                                                                          \
  SEGEN_MULTIVERSION(top, , void, color_hsv2rgb_row, (const T* s, W* d, std::ptrdiff_t n, bool stream),      \
                     (s, d, n, stream)) {                                                                    \
    hsv2rgb_row_at_level<kLevel, T, W>(s, d, n, stream);                                                     \
  }                                                                                                          \
  SEGEN_MULTIVERSION(V4, , void, color_lab_row,                                                              \
                     (const T* s, W* d, std::ptrdiff_t n, const LabParams& P), (s, d, n, P)) {               \
    lab_impl<T, W>(s, d, n, P);                                                                              \
  }
SEGEN_COLOR_ROWS(u8, float, V4)
SEGEN_COLOR_ROWS(u16, float, V4)
SEGEN_COLOR_ROWS(float, float, V4)
SEGEN_COLOR_ROWS(double, double, V3)
#undef SEGEN_COLOR_ROWS
}  // namespace detail

// ---- public API ------------------------------------------------------------------------------

std::array<double, 3> white_point(const std::string& illuminant, const std::string& observer) {
  struct Entry {
    const char* name;
    double x2, y2, x10, y10;  // chromaticity for the 2° and 10° observers
  };
  static const Entry kTable[] = {
      {"A", 0.44757, 0.40745, 0.45117, 0.40594},   {"B", 0.34842, 0.35161, 0.34980, 0.35270},
      {"C", 0.31006, 0.31616, 0.31039, 0.31905},   {"D50", 0.34567, 0.35850, 0.34773, 0.35952},
      {"D55", 0.33242, 0.34743, 0.33411, 0.34877}, {"D65", 0.31271, 0.32902, 0.31382, 0.33100},
      {"D75", 0.29902, 0.31485, 0.29968, 0.31740}, {"E", 1.0 / 3.0, 1.0 / 3.0, 1.0 / 3.0, 1.0 / 3.0},
  };
  const std::string ill = upper(illuminant);
  if (observer != "2" && observer != "10")
    throw InvalidArgument("`observer` must be '2' or '10'; got '" + observer + "'");
  for (const Entry& e : kTable) {
    if (ill != e.name) continue;
    if (ill == "D65" && observer == "2") return {0.95047, 1.0, 1.08883};  // scikit-image's historic value
    const double x = observer == "2" ? e.x2 : e.x10, y = observer == "2" ? e.y2 : e.y10;
    return {x / y, 1.0, (1.0 - x - y) / y};
  }
  throw InvalidArgument("`illuminant` must be one of 'A', 'B', 'C', 'D50', 'D55', 'D65', 'D75', 'E'; got '" +
                        illuminant + "'");
}

template <class T>
void rgb2gray_into(ImageView<const T> src, ImageView<color_float_t<T>> out) {
  require_rgb(src);
  if (out.height != src.height || out.width != src.width || out.channels != 1)
    throw InvalidArgument("`out` must have shape " + detail::shape_str(src.height, src.width, 1) + "; got " +
                          detail::shape_str(out.height, out.width, out.channels));
  detail::require_no_overlap(src, out, "image", "out");
  for_pixels(src, out, [](const T* s, color_float_t<T>* d, std::ptrdiff_t n, bool stream) {
    detail::color_gray_row(s, d, n, stream);
  });
}

template <class T>
Image<color_float_t<T>> rgb2gray(ImageView<const T> src) {
  Image<color_float_t<T>> out(src.height, src.width, 1);
  rgb2gray_into<T>(src, out.view());
  return out;
}

template <class T>
void rgb2hsv_into(ImageView<const T> src, ImageView<color_float_t<T>> out) {
  require_rgb(src);
  detail::require_same_shape(src, out, "image", "out");
  detail::require_no_overlap(src, out, "image", "out");
  for_pixels(src, out, [](const T* s, color_float_t<T>* d, std::ptrdiff_t n, bool stream) {
    detail::color_hsv_row(s, d, n, stream);
  });
}

template <class T>
Image<color_float_t<T>> rgb2hsv(ImageView<const T> src) {
  Image<color_float_t<T>> out(src.height, src.width, 3);
  rgb2hsv_into<T>(src, out.view());
  return out;
}

template <class T>
void hsv2rgb_into(ImageView<const T> src, ImageView<color_float_t<T>> out) {
  require_rgb(src);
  detail::require_same_shape(src, out, "image", "out");
  detail::require_no_overlap(src, out, "image", "out");
  for_pixels(src, out,
             [](const T* s, color_float_t<T>* d, std::ptrdiff_t n, bool stream) {
               detail::color_hsv2rgb_row(s, d, n, stream);
             });
}

template <class T>
Image<color_float_t<T>> hsv2rgb(ImageView<const T> src) {
  Image<color_float_t<T>> out(src.height, src.width, 3);
  hsv2rgb_into<T>(src, out.view());
  return out;
}

template <class T>
void rgb2lab_into(ImageView<const T> src, ImageView<color_float_t<T>> out, const std::string& illuminant,
                  const std::string& observer) {
  require_rgb(src);
  detail::require_same_shape(src, out, "image", "out");
  detail::require_no_overlap(src, out, "image", "out");
  const std::array<double, 3> white = white_point(illuminant, observer);
  LabParams P{};
  for (int r = 0; r < 3; ++r)
    for (int c = 0; c < 3; ++c) P.m[r][c] = kXyzFromRgb[r][c] / white[r];
  if constexpr (!std::is_floating_point_v<T>) (void)linear_table<T>();  // build before the threads start
  for_pixels(src, out, [&P](const T* s, color_float_t<T>* d, std::ptrdiff_t n, bool) {
    detail::color_lab_row(s, d, n, P);
  });
}

template <class T>
Image<color_float_t<T>> rgb2lab(ImageView<const T> src, const std::string& illuminant,
                                const std::string& observer) {
  Image<color_float_t<T>> out(src.height, src.width, 3);
  rgb2lab_into<T>(src, out.view(), illuminant, observer);
  return out;
}

#define SEGEN_INSTANTIATE(T)                                                                               \
  template SEGEN_API void rgb2gray_into<T>(ImageView<const T>, ImageView<color_float_t<T>>);               \
  template SEGEN_API Image<color_float_t<T>> rgb2gray<T>(ImageView<const T>);                              \
  template SEGEN_API void rgb2hsv_into<T>(ImageView<const T>, ImageView<color_float_t<T>>);                \
  template SEGEN_API Image<color_float_t<T>> rgb2hsv<T>(ImageView<const T>);                               \
  template SEGEN_API void hsv2rgb_into<T>(ImageView<const T>, ImageView<color_float_t<T>>);                \
  template SEGEN_API Image<color_float_t<T>> hsv2rgb<T>(ImageView<const T>);                               \
  template SEGEN_API void rgb2lab_into<T>(ImageView<const T>, ImageView<color_float_t<T>>, const std::string&, \
                                          const std::string&);                                             \
  template SEGEN_API Image<color_float_t<T>> rgb2lab<T>(ImageView<const T>, const std::string&,            \
                                                        const std::string&);
SEGEN_FOR_PIXEL_TYPES(SEGEN_INSTANTIATE)
#undef SEGEN_INSTANTIATE

}  // namespace segen
