#pragma once
// RGB -> HSV, the one formula behind rgb2hsv (color.cpp: its portable loop and its AVX-512 kernel in
// color_avx512.hpp) and color_histogram (features.cpp). It is written with plain operators and selects, so
// the same source serves a scalar (one pixel) and a GCC vector of any width, __m512 included (one pixel
// per lane): every path computes the same operations in the same order, lane by lane, and gives the same
// bits. The AVX2 kernel (color_avx2.hpp's hsv_block) is written out in intrinsics for speed and gives
// these bits too: keep the two in step.

#include <type_traits>  // std::is_same_v

#include "detail/dispatch.hpp"  // SEGEN_ALWAYS_INLINE

namespace segen::detail {

/// hsv2rgb clamps float samples to +-kHsvLimit before its arithmetic (2**60 for float work, 2**500 for
/// double), so that v * s and 6 h stay finite (color.cpp's portable loop and the AVX2 / AVX-512 kernels).
template <class W>
constexpr W kHsvLimit = std::is_same_v<W, float> ? W(1152921504606846976.0) : W(3.273390607896142e150);

/// The two roundings in use. Fast: the colour conversions' (H and S from the raw samples, V scaled
/// afterwards, the hue multiplied by 1/6: 1 ulp from a division). Skimage: skimage.color.rgb2hsv's exactly
/// (samples scaled to [0, 1] first, the hue divided by 6), which color_histogram's bin edges need.
enum class HsvArith { Fast, Skimage };

/// H, S, V of the pixels r, g, b. V is W (float or double) or a vector of W; `scale` brings a sample to
/// [0, 1]. Ties go as in scikit-image: red, then green, then blue is tested, the last channel equal to the
/// max wins; grey pixels get H = S = 0; delta / 0 (negative inputs) gives +-inf. kChecked: NaN results
/// become 0 and a NaN input anywhere zeroes the pixel (rgb2hsv of float images).
template <HsvArith kArith, bool kChecked, class W, class V>
SEGEN_ALWAYS_INLINE void hsv_pixels(const V& r_in, const V& g_in, const V& b_in, W scale, V& h, V& s, V& v) {
  const V zero{};
  const V one = zero + W(1);
  V r = r_in, g = g_in, b = b_in;
  if constexpr (kArith == HsvArith::Skimage) {
    r = r * scale;
    g = g * scale;
    b = b * scale;
  }
  // Plain selects (std::max takes references, which can keep loops from vectorising); these are also
  // exactly what the max / min instructions compute.
  const V mx0 = r > g ? r : g, mx = mx0 > b ? mx0 : b;
  const V mn0 = r < g ? r : g, mn = mn0 < b ? mn0 : b;
  const V delta = mx - mn;
  const auto grey = delta == zero;
  const auto is_b = b == mx, is_g = g == mx;
  const V num = is_b ? r - g : (is_g ? b - r : g - b);
  const V off = is_b ? zero + W(4) : (is_g ? zero + W(2) : zero);
  const V q = off + num / (grey ? one : delta);
  V h0;
  if constexpr (kArith == HsvArith::Skimage) h0 = q / W(6);
  else h0 = q * W(1.0 / 6.0);
  const V hh = h0 < zero ? h0 + one : h0;
  h = grey ? zero : hh;
  s = delta / (grey ? one : mx);  // grey: 0 / 1 = 0
  if constexpr (kArith == HsvArith::Skimage) v = mx;
  else v = mx * scale;
  if constexpr (kChecked) {  // keep a result only if it and the three inputs are not NaN
    const auto ok = (r == r) & (g == g) & (b == b);
    h = (ok & (h == h)) ? h : zero;
    s = (ok & (s == s)) ? s : zero;
    v = (ok & (v == v)) ? v : zero;
  }
}

}  // namespace segen::detail
