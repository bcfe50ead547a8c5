#pragma once
/// @file features.hpp
/// @defgroup features Features
/// @brief Gabor kernels, Gabor filtering and filter banks, HSV colour histograms, Canny edges and local
/// binary patterns.
/// Python: `segen.features`.
///
/// Conventions shared by the whole area:
/// - Angles are in radians. `theta = 0` makes a Gabor harmonic vary along x (columns), so the filter
///   responds to vertical edges and stripes, as in scikit-image.
/// - Gabor filtering is a *convolution* (scipy.ndimage.convolve semantics, as scikit-image uses), with
///   the border modes of scipy.ndimage.
/// - Gabor filtering of integer and float input runs in single precision and gives float results; double
///   input runs in double precision (see `feature_float_t`). Canny follows scikit-image's precision.
/// @{

#include <cstddef>      // std::ptrdiff_t
#include <cstdint>      // std::uint8_t
#include <limits>       // std::numeric_limits
#include <vector>       // std::vector

#include "segen/export.hpp"
#include "segen/filters.hpp"
#include "segen/image.hpp"

namespace segen {

/// @brief Result element type of the Gabor filters: `double` for `double` input, `float` for uint8, uint16
/// and float input (the filters' rule, filter_output_t).
template <class T>
using feature_float_t = filter_output_t<T>;

/// @brief Parameters of one Gabor filter, with scikit-image's names and defaults.
///
/// The kernel is `g(x, y) = 1 / (2 pi sigma_x sigma_y) * exp(-x'^2 / (2 sigma_x^2) - y'^2 / (2 sigma_y^2))
/// * exp(i (2 pi frequency x' + offset))` with `x' = x cos(theta) + y sin(theta)`,
/// `y' = -x sin(theta) + y cos(theta)`, sampled on integer (x, y) with |x| <= x0, |y| <= y0 where
/// `x0 = ceil(max(|n_stds sigma_x cos(theta)|, |n_stds sigma_y sin(theta)|, 1))` and
/// `y0 = ceil(max(|n_stds sigma_y cos(theta)|, |n_stds sigma_x sin(theta)|, 1))`.
struct GaborOptions {
  double frequency = 0.1;  ///< spatial frequency of the harmonic, in cycles per pixel; > 0.
  double theta = 0.0;      ///< orientation in radians; 0 = harmonic along x (responds to vertical edges).
  double bandwidth = 1.0;  ///< octaves; sets sigma_x / sigma_y when they are 0; > 0.
  double sigma_x = 0.0;    ///< envelope standard deviation along x' (before rotation); 0 = from bandwidth.
  double sigma_y = 0.0;    ///< envelope standard deviation along y' (before rotation); 0 = from bandwidth.
  double n_stds = 3.0;     ///< half-size of the kernel in standard deviations; > 0.
  double offset = 0.0;     ///< phase offset of the harmonic in radians.
  Border mode = Border::Reflect;  ///< border extension of the image.
  double cval = 0.0;              ///< value outside the image for Border::Constant.
};

/// @brief The envelope standard deviation scikit-image derives from a bandwidth:
/// `sqrt(ln 2 / 2) / pi * (2^b + 1) / (2^b - 1) / frequency`.
/// @param frequency  Cycles per pixel; > 0.
/// @param bandwidth  Octaves; > 0.
/// @return sigma in pixels.
/// @throws InvalidArgument if `frequency` or `bandwidth` is not finite and > 0.
SEGEN_API double gabor_sigma(double frequency, double bandwidth);

/// @brief The complex Gabor kernel described by `opt` (its `mode` and `cval` are ignored), equal to
/// skimage.filters.gabor_kernel.
/// @param opt  Filter parameters.
/// @return A (2 y0 + 1, 2 x0 + 1, 2) image: channel 0 is the real part, channel 1 the imaginary part
///         (the memory layout of a complex128 array). Rows are y, columns are x.
/// @throws InvalidArgument if a parameter is out of range (message names it) or the kernel would have
///         more than 2^26 elements.
SEGEN_API Image<double> gabor_kernel(const GaborOptions& opt);

/// @brief Real and imaginary responses of an image to one Gabor filter (scipy.ndimage.convolve of the
/// image with the real and the imaginary part of gabor_kernel(opt)), equal to skimage.filters.gabor.
/// @param image  Input (H, W) or (H, W, C); each channel is filtered independently. T is uint8, uint16,
///               float or double. NaN propagates to every output within the kernel's reach.
/// @param real   Output real part, same shape as `image`.
/// @param imag   Output imaginary part, same shape as `image`.
/// @param opt    Filter parameters and border handling.
/// @throws InvalidArgument if `image` is empty, the outputs have another shape, or a parameter is out of
///         range.
/// @note When sigma_x == sigma_y the kernel is separable into two complex 1-D passes (2 (2 x0 + 1) + 2
///       (2 y0 + 1) multiply-adds per pixel); otherwise a direct 2-D complex correlation is used. The
///       kernel may be larger than the image. Parallel over rows; allocates row buffers.
template <class T>
SEGEN_API void gabor_into(ImageView<const T> image, ImageView<feature_float_t<T>> real,
                          ImageView<feature_float_t<T>> imag, const GaborOptions& opt);

/// @brief The pair of images returned by gabor().
template <class F>
struct GaborResponse {
  Image<F> real;  ///< real part of the response
  Image<F> imag;  ///< imaginary part of the response
};

/// @brief Value-returning form of gabor_into().
template <class T>
SEGEN_API GaborResponse<feature_float_t<T>> gabor(ImageView<const T> image, const GaborOptions& opt);

/// @brief Parameters of a Gabor filter bank (see gabor_bank_into()).
struct GaborBankOptions {
  std::vector<double> frequencies;  ///< cycles per pixel, each > 0; at least one.
  std::vector<double> thetas;       ///< orientations in radians; at least one.
  double bandwidth = 1.0;           ///< octaves; used when sigma_x / sigma_y are 0.
  double sigma_x = 0.0;             ///< fixed envelope sigma along x' for every filter; 0 = from bandwidth.
  double sigma_y = 0.0;             ///< fixed envelope sigma along y' for every filter; 0 = from bandwidth.
  double n_stds = 3.0;              ///< kernel half-size in standard deviations.
  double smoothing = 0.5;           ///< magnitude smoothing sigma = smoothing / frequency; 0 = none.
  double smoothing_truncate = 3.0;  ///< the smoothing Gaussian is cut at this many sigmas; > 0.
  Border mode = Border::Reflect;    ///< border of the Gabor filtering and of the smoothing.
  double cval = 0.0;  ///< image value outside for Border::Constant (the smoothing pads with 0).
};

/// @brief Smoothed Gabor magnitudes of a grey image for every (frequency, theta) pair: texture features
/// ready for clustering.
///
/// Feature `k = i * thetas.size() + j` (frequency i, orientation j) is
/// `gaussian(|gabor(image, frequencies[i], thetas[j])|, sigma = smoothing / frequencies[i])`, where the
/// Gaussian is normalised, truncated at `smoothing_truncate` sigmas and uses `mode` (zeros outside for
/// Border::Constant), as scipy.ndimage.gaussian_filter would.
/// @param image  Grey input (H, W), one channel; T is uint8, uint16, float or double. Computed in float.
/// @param opt    Bank parameters.
/// @param out    Output (H, W, F) with F = frequencies.size() * thetas.size() channels.
/// @throws InvalidArgument if `image` is empty or has more than one channel, `out` has the wrong shape,
///         or a parameter is out of range.
/// @note Allocates about F + 2 image-sized float planes of scratch. Parallel over rows.
template <class T>
SEGEN_API void gabor_bank_into(ImageView<const T> image, const GaborBankOptions& opt, ImageView<float> out);

/// @brief Value-returning form of gabor_bank_into().
template <class T>
SEGEN_API Image<float> gabor_bank(ImageView<const T> image, const GaborBankOptions& opt);

/// @brief Histogram of the HSV colours of an RGB image (hue, saturation and value each in [0, 1], as
/// skimage.color.rgb2hsv computes them), with equal-width bins.
///
/// A pixel with H, S, V falls in bin (floor-like) `(h, s, v)` where bin i of a channel with n bins covers
/// `[i / n, (i + 1) / n)`, the last one including 1 (np.histogramdd's rule). Integer images are scaled
/// by 1 / dtype max first. Values of S and V outside [0, 1] (float images outside the convention) are
/// counted in the first or last bin. Pixels with a non-finite channel are ignored.
/// @param image      RGB input (H, W, 3); T is uint8, uint16, float or double.
/// @param out        Output histogram; its (height, width, channels) are the numbers of hue, saturation
///                   and value bins (each >= 1).
/// @param mask       Optional (H, W) mask: only pixels where it is non-zero are counted; an empty view
///                   counts every pixel.
/// @param normalize  Divide the counts by their sum so the histogram sums to 1 (all zeros when no pixel
///                   is counted); otherwise the raw counts.
/// @throws InvalidArgument if `image` is empty or not 3-channel, `out` is empty, or `mask` has another
///         height or width or more than one channel.
/// @note Parallel over rows; the counts are exact integers, so the result does not depend on the thread
///       count.
template <class T>
SEGEN_API void color_histogram_into(ImageView<const T> image, ImageView<double> out,
                                    ImageView<const std::uint8_t> mask = {}, bool normalize = true);

/// @brief Value-returning form of color_histogram_into().
/// @param bins_h, bins_s, bins_v  Numbers of bins per channel (each >= 1).
/// @return A (bins_h, bins_s, bins_v) histogram.
template <class T>
SEGEN_API Image<double> color_histogram(ImageView<const T> image, int bins_h = 8, int bins_s = 4, int bins_v = 4,
                                        ImageView<const std::uint8_t> mask = {}, bool normalize = true);

/// @brief Parameters of canny() (scikit-image's names and defaults).
struct CannyOptions {
  double sigma = 1.0;  ///< standard deviation of the Gaussian smoothing; >= 0 (0 = none).
  /// Lower hysteresis threshold on the gradient magnitude, in the units of the input dtype (e.g. 0..255
  /// for uint8); NaN = 10% of the dtype's maximum (1 for floats). A quantile in [0, 1] when
  /// `use_quantiles`.
  double low_threshold = std::numeric_limits<double>::quiet_NaN();
  /// Upper hysteresis threshold; NaN = 20% of the dtype's maximum. A quantile when `use_quantiles`.
  double high_threshold = std::numeric_limits<double>::quiet_NaN();
  bool use_quantiles = false;     ///< thresholds are quantiles of the gradient magnitude image.
  Border mode = Border::Constant;  ///< border of the Gaussian smoothing (Canny's default: constant).
  double cval = 0.0;  ///< value outside the image for Border::Constant, in [0, 1]-scaled units.
  /// The Gaussian's weights (odd length, centre in the middle); empty = gaussian_kernel(sigma, 4) (or no
  /// smoothing for sigma 0). The Python wrapper passes the weights numpy computes, so that the rounding of
  /// every step matches scikit-image's bit for bit.
  std::vector<double> gaussian_weights;
};

/// @brief Canny edge detector, identical to skimage.feature.canny pixel for pixel.
///
/// Steps: Gaussian smoothing of the image scaled by 1 / dtype max (in constant mode or with a mask, the
/// result is divided by the smoothed mask, so masked and outside pixels do not bleed in); 3x3 Sobel
/// gradients (reflect border); gradient magnitude sqrt(gx^2 + gy^2); non-maximum suppression with
/// bilinear interpolation along the gradient; hysteresis: keep the 8-connected components of
/// (suppressed magnitude >= low) that contain a pixel >= high. Pixels on the image border, and pixels
/// whose 3x3 neighbourhood leaves the mask, are never edges. Every step rounds as scikit-image does
/// (scipy.ndimage's summation order, no fused multiply-adds), so even exact ties agree.
/// @param image  Grey input (H, W), one channel; T is uint8, uint16, float or double (float images are
///               processed in float like scikit-image, the others in double).
/// @param out    Output (H, W) edge map: 1 = edge, 0 = not.
/// @param opt    Parameters.
/// @param mask   Optional (H, W) mask (non-zero = use the pixel); an empty view uses every pixel.
/// @throws InvalidArgument if `image` is empty or multichannel, `out`/`mask` have another shape, `sigma`
///         < 0, a threshold is negative (or outside [0, 1] with `use_quantiles`), or low > high.
/// @note Parallel over blocks of rows, except the hysteresis flood fill; scratch is a few rows per
///       thread (plus the whole magnitude image with `use_quantiles`). NaN pixels give no edges near them.
template <class T>
SEGEN_API void canny_into(ImageView<const T> image, ImageView<std::uint8_t> out, const CannyOptions& opt = {},
                          ImageView<const std::uint8_t> mask = {});

/// @brief Value-returning form of canny_into().
template <class T>
SEGEN_API Image<std::uint8_t> canny(ImageView<const T> image, const CannyOptions& opt = {},
                                    ImageView<const std::uint8_t> mask = {});

/// @brief Kinds of local binary pattern codes (scikit-image's `method` names).
enum class LbpMethod : int {
  Uniform = 0,  ///< rotation-invariant uniform patterns: the number of set bits (0..8) where the circular
                ///< pattern has at most two 0/1 transitions, else 9 ("uniform").
  Default = 1,  ///< the raw pattern: bit p set for neighbour p, 0..255 ("default").
};

/// @brief Local binary pattern codes (Ojala et al. 2002) of 8 neighbours at radius 1.
///
/// Neighbour p (p = 0..7) lies at angle 2 pi p / 8 counter-clockwise from the right: p = 0 is (y, x + 1),
/// p = 2 is (y - 1, x), p = 4 (y, x - 1), p = 6 (y + 1, x); the diagonal ones, at distance 1, are
/// interpolated bilinearly from the 2x2 block around them, written as differences from the centre so that
/// a flat patch gives exactly 0: `d = s q (d_vertical + d_horizontal) + s^2 d_diagonal` with
/// s = sqrt(1/2), q = 1 - s. Bit p is set where neighbour p minus the centre is >= `threshold`. Pixels
/// outside the image repeat the nearest edge pixel. Every step is computed in single precision (each
/// product rounded on its own, no fused multiply-add), whatever T, so the codes do not depend on the CPU.
/// @param image      Grey input (H, W), one channel; T is uint8, uint16, float or double.
/// @param out        Output (H, W) codes: 0..9 for LbpMethod::Uniform, 0..255 for LbpMethod::Default.
/// @param method     Kind of code.
/// @param threshold  Contrast threshold in the image's units (e.g. 0..255 for uint8); finite and >= 0.
/// @throws InvalidArgument if `image` is empty or multichannel, `out` has another shape or overlaps
///         `image`, `method` is not an LbpMethod, or `threshold` is negative or not finite.
/// @note NaN pixels are allowed: a comparison with NaN (also inf - inf) is false, so a NaN neighbour's
///       bit is 0 (and the diagonals interpolated from it), and a NaN centre gets the pattern 0 (code 0).
///       At threshold 0 the codes equal skimage.feature.local_binary_pattern(image, 8, 1, method) away
///       from the border, but where an interpolated neighbour ties with the centre up to rounding.
///       Parallel over rows; scratch is three rows per thread; the result does not depend on the thread
///       count.
template <class T>
SEGEN_API void local_binary_pattern_into(ImageView<const T> image, ImageView<std::uint8_t> out,
                                         LbpMethod method = LbpMethod::Uniform, double threshold = 0.0);

/// @brief Value-returning form of local_binary_pattern_into().
template <class T>
SEGEN_API Image<std::uint8_t> local_binary_pattern(ImageView<const T> image, LbpMethod method = LbpMethod::Uniform,
                                                   double threshold = 0.0);

}  // namespace segen
/// @}
