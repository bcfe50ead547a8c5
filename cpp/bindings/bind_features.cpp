// Binding for segen/features.hpp: argument conversion and GIL release only.

#include <pybind11/stl.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "ndarray.hpp"
#include "segen/features.hpp"

namespace py = pybind11;
using namespace segen::bind;

namespace {

// A (H, W) bool or uint8 mask (non-zero = selected); None gives an empty view.
segen::ImageView<const std::uint8_t> mask_view(const py::object& mask, std::ptrdiff_t h, std::ptrdiff_t w) {
  if (mask.is_none()) return {};
  const auto a = py::reinterpret_borrow<py::array>(mask);
  if (!(has_dtype<bool>(a) || has_dtype<std::uint8_t>(a)))
    throw segen::TypeMismatch("`mask` must have dtype bool or uint8; got " + std::string(py::str(a.dtype())));
  if (a.ndim() != 2 || a.shape(0) != h || a.shape(1) != w)
    throw segen::InvalidArgument("`mask` must have shape (" + std::to_string(h) + ", " + std::to_string(w) +
                                 "); got " + shape_of(a));
  if (!(a.flags() & py::array::c_style)) throw segen::InvalidArgument("`mask` must be C-contiguous");
  return segen::ImageView<const std::uint8_t>(static_cast<const std::uint8_t*>(a.data()), h, w, 1);
}

segen::GaborOptions gabor_options(double frequency, double theta, double bandwidth, double sigma_x, double sigma_y,
                                  double n_stds, double offset) {
  segen::GaborOptions o;
  o.frequency = frequency;
  o.theta = theta;
  o.bandwidth = bandwidth;
  o.sigma_x = sigma_x;
  o.sigma_y = sigma_y;
  o.n_stds = n_stds;
  o.offset = offset;
  return o;
}

}  // namespace

void bind_features(py::module_& m) {
  m.def(
      "gabor_kernel",
      [](double frequency, double theta, double bandwidth, double sigma_x, double sigma_y, double n_stds,
         double offset) -> py::array {
        const segen::GaborOptions o = gabor_options(frequency, theta, bandwidth, sigma_x, sigma_y, n_stds, offset);
        segen::Image<double> k;
        {
          NoGil nogil;
          k = segen::gabor_kernel(o);
        }
        auto out = new_array<double>(k.height(), k.width(), 2);
        std::memcpy(out.mutable_data(), k.data(), sizeof(double) * static_cast<std::size_t>(k.size()));
        return out;
      },
      py::arg("frequency"), py::arg("theta"), py::arg("bandwidth"), py::arg("sigma_x"), py::arg("sigma_y"),
      py::arg("n_stds"), py::arg("offset"),
      "Complex Gabor kernel as a (h, w, 2) float64 array (private; see segen.features.gabor_kernel).");

  m.def(
      "gabor",
      [](const py::array& image, double frequency, double theta, double bandwidth, double sigma_x, double sigma_y,
         double n_stds, double offset, const std::string& mode, double cval) -> py::tuple {
        segen::GaborOptions o = gabor_options(frequency, theta, bandwidth, sigma_x, sigma_y, n_stds, offset);
        o.mode = parse_border(mode);
        o.cval = cval;
        return dispatch_image_dtype(image, "image", [&](auto tag) -> py::tuple {
          using T = typename decltype(tag)::type;
          using F = segen::feature_float_t<T>;
          auto src = image_view<const T>(image, "image");
          const std::ptrdiff_t c = image.ndim() == 3 ? src.channels : 0;
          auto re = new_array<F>(src.height, src.width, c);
          auto im = new_array<F>(src.height, src.width, c);
          auto vre = image_view<F>(re, "real");
          auto vim = image_view<F>(im, "imag");
          {
            NoGil nogil;
            segen::gabor_into<T>(src, vre, vim, o);
          }
          return py::make_tuple(re, im);
        });
      },
      py::arg("image"), py::arg("frequency"), py::arg("theta"), py::arg("bandwidth"), py::arg("sigma_x"),
      py::arg("sigma_y"), py::arg("n_stds"), py::arg("offset"), py::arg("mode"), py::arg("cval"),
      "Gabor responses (private; see segen.features.gabor).");

  m.def(
      "gabor_bank",
      [](const py::array& image, const std::vector<double>& frequencies, const std::vector<double>& thetas,
         double bandwidth, double sigma_x, double sigma_y, double n_stds, double smoothing, double truncate,
         const std::string& mode, double cval) -> py::array {
        segen::GaborBankOptions o;
        o.frequencies = frequencies;
        o.thetas = thetas;
        o.bandwidth = bandwidth;
        o.sigma_x = sigma_x;
        o.sigma_y = sigma_y;
        o.n_stds = n_stds;
        o.smoothing = smoothing;
        o.smoothing_truncate = truncate;
        o.mode = parse_border(mode);
        o.cval = cval;
        return dispatch_image_dtype(image, "image", [&](auto tag) -> py::array {
          using T = typename decltype(tag)::type;
          auto src = image_view<const T>(image, "image", false);
          const auto nf = static_cast<std::ptrdiff_t>(frequencies.size() * thetas.size());
          auto out = fill_new_array<float>(src.height, src.width, nf > 0 ? nf : 1, [&](auto dst) {
            segen::gabor_bank_into<T>(src, o, dst);
          });
          return out;
        });
      },
      py::arg("image"), py::arg("frequencies"), py::arg("thetas"), py::arg("bandwidth"), py::arg("sigma_x"),
      py::arg("sigma_y"), py::arg("n_stds"), py::arg("smoothing"), py::arg("smoothing_truncate"), py::arg("mode"),
      py::arg("cval"), "Smoothed Gabor magnitudes (private; see segen.features.gabor_bank).");

  m.def(
      "color_histogram",
      [](const py::array& image, int bins_h, int bins_s, int bins_v, const py::object& mask,
         bool normalize) -> py::array {
        if (bins_h < 1 || bins_s < 1 || bins_v < 1)
          throw segen::InvalidArgument("`bins` must be >= 1 for each channel; got (" + std::to_string(bins_h) + ", " +
                                       std::to_string(bins_s) + ", " + std::to_string(bins_v) + ")");
        return dispatch_image_dtype(image, "image", [&](auto tag) -> py::array {
          using T = typename decltype(tag)::type;
          auto src = image_view<const T>(image, "image");
          auto mv = mask_view(mask, src.height, src.width);
          auto out = fill_new_array<double>(bins_h, bins_s, bins_v, [&](auto dst) {
            segen::color_histogram_into<T>(src, dst, mv, normalize);
          });
          return out;
        });
      },
      py::arg("image"), py::arg("bins_h"), py::arg("bins_s"), py::arg("bins_v"), py::arg("mask"),
      py::arg("normalize"), "HSV histogram (private; see segen.features.color_histogram).");

  m.def(
      "canny",
      [](const py::array& image, double sigma, double low, double high, const py::object& mask, bool use_quantiles,
         const std::string& mode, double cval, const std::vector<double>& weights) -> py::array {
        segen::CannyOptions o;
        o.sigma = sigma;
        o.gaussian_weights = weights;
        o.low_threshold = low;
        o.high_threshold = high;
        o.use_quantiles = use_quantiles;
        o.mode = parse_border(mode);
        o.cval = cval;
        return dispatch_image_dtype(image, "image", [&](auto tag) -> py::array {
          using T = typename decltype(tag)::type;
          auto src = image_view<const T>(image, "image", false);
          auto mv = mask_view(mask, src.height, src.width);
          auto out = new_array<bool>(src.height, src.width);
          segen::ImageView<std::uint8_t> dst(reinterpret_cast<std::uint8_t*>(out.mutable_data()), src.height, src.width,
                                            1);
          {
            NoGil nogil;
            segen::canny_into<T>(src, dst, o, mv);
          }
          return out;
        });
      },
      py::arg("image"), py::arg("sigma"), py::arg("low_threshold"), py::arg("high_threshold"), py::arg("mask"),
      py::arg("use_quantiles"), py::arg("mode"), py::arg("cval"), py::arg("gaussian_weights"),
      "Canny edges (private; see segen.features.canny). NaN thresholds mean the defaults.");
  m.def(
      "local_binary_pattern",
      [](const py::array& image, const std::string& method, double threshold) -> py::array {
        segen::LbpMethod lm;
        if (method == "uniform")
          lm = segen::LbpMethod::Uniform;
        else if (method == "default")
          lm = segen::LbpMethod::Default;
        else
          throw segen::InvalidArgument("`method` must be 'uniform' or 'default'; got '" + method + "'");
        return dispatch_image_dtype(image, "image", [&](auto tag) -> py::array {
          using T = typename decltype(tag)::type;
          auto src = image_view<const T>(image, "image", false);
          auto out = new_array<std::uint8_t>(src.height, src.width);
          auto dst = image_view<std::uint8_t>(out, "out");
          {
            NoGil nogil;
            segen::local_binary_pattern_into<T>(src, dst, lm, threshold);
          }
          return out;
        });
      },
      py::arg("image"), py::arg("method"), py::arg("threshold"),
      "Local binary pattern codes (private; see segen.features.local_binary_pattern).");
}
