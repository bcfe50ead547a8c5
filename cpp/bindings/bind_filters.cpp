// Binding for segen/filters.hpp: argument conversion and GIL release only.

#include <string>
#include <vector>

#include "ndarray.hpp"
#include "segen/filters.hpp"

namespace py = pybind11;
using namespace segen::bind;

namespace {

using KernelArray = py::array_t<double, py::array::c_style | py::array::forcecast>;

// Allocate the output (filter_output_t<T>, same shape as `image`), then run `f(src, dst)` without the GIL.
template <class F>
py::array filter_call(const py::array& image, F&& f) {
  return dispatch_image_dtype(image, "image", [&](auto tag) -> py::array {
    using T = typename decltype(tag)::type;
    using O = segen::filter_output_t<T>;
    auto src = image_view<const T>(image, "image");
    auto out = fill_new_array<O>(src.height, src.width, image.ndim() == 3 ? src.channels : 0, [&](auto dst) {
      f(src, dst);
    });
    return out;
  });
}

std::vector<double> kernel_1d(const KernelArray& k, const char* name) {
  if (k.ndim() != 1)
    throw segen::InvalidArgument(std::string("`") + name + "` must be 1-D; got " + std::to_string(k.ndim()) +
                                 " dimensions");
  return std::vector<double>(k.data(), k.data() + k.size());
}

segen::ImageView<const double> kernel_2d(const KernelArray& k) {
  if (k.ndim() != 2)
    throw segen::InvalidArgument("`weights` must be 2-D; got " + std::to_string(k.ndim()) + " dimensions");
  return segen::ImageView<const double>(k.data(), k.shape(0), k.shape(1));
}

}  // namespace

void bind_filters(py::module_& m) {
  m.def(
      "correlate",
      [](const py::array& image, const KernelArray& weights, const std::string& mode, double cval, bool flip) {
        const auto w = kernel_2d(weights);
        const auto border = parse_border(mode);
        return filter_call(image, [&](auto src, auto dst) {
          if (flip)
            segen::convolve_into(src, dst, w, border, cval);
          else
            segen::correlate_into(src, dst, w, border, cval);
        });
      },
      py::arg("image"), py::arg("weights"), py::arg("mode"), py::arg("cval"), py::arg("convolve"),
      "Correlate (or convolve) with a 2-D kernel (private; see segen.filters.correlate).");

  m.def(
      "separable",
      [](const py::array& image, const KernelArray& row_kernel, const KernelArray& col_kernel,
         const std::string& mode, double cval) {
        const auto kr = kernel_1d(row_kernel, "row_kernel");
        const auto kc = kernel_1d(col_kernel, "col_kernel");
        const auto border = parse_border(mode);
        return filter_call(image, [&](auto src, auto dst) { segen::separable_into(src, dst, kr, kc, border, cval); });
      },
      py::arg("image"), py::arg("row_kernel"), py::arg("col_kernel"), py::arg("mode"), py::arg("cval"),
      "Separable correlation (private; see segen.filters.separable).");

  m.def(
      "gaussian",
      [](const py::array& image, double sigma_row, double sigma_col, const std::string& mode, double cval,
         double truncate) {
        const auto border = parse_border(mode);
        return filter_call(image, [&](auto src, auto dst) {
          segen::gaussian_into(src, dst, sigma_row, sigma_col, border, cval, truncate);
        });
      },
      py::arg("image"), py::arg("sigma_row"), py::arg("sigma_col"), py::arg("mode"), py::arg("cval"),
      py::arg("truncate"), "Gaussian blur (private; see segen.filters.gaussian).");

  m.def(
      "uniform",
      [](const py::array& image, int size_row, int size_col, const std::string& mode, double cval) {
        const auto border = parse_border(mode);
        return filter_call(image, [&](auto src, auto dst) {
          segen::uniform_into(src, dst, size_row, size_col, border, cval);
        });
      },
      py::arg("image"), py::arg("size_row"), py::arg("size_col"), py::arg("mode"), py::arg("cval"),
      "Box filter (private; see segen.filters.uniform).");

  m.def(
      "laplace",
      [](const py::array& image, const std::string& mode, double cval) {
        const auto border = parse_border(mode);
        return filter_call(image, [&](auto src, auto dst) { segen::laplace_into(src, dst, border, cval); });
      },
      py::arg("image"), py::arg("mode"), py::arg("cval"), "Laplace filter (private; see segen.filters.laplace).");

  m.def(
      "gaussian_laplace",
      [](const py::array& image, double sigma_row, double sigma_col, const std::string& mode, double cval,
         double truncate) {
        const auto border = parse_border(mode);
        return filter_call(image, [&](auto src, auto dst) {
          segen::gaussian_laplace_into(src, dst, sigma_row, sigma_col, border, cval, truncate);
        });
      },
      py::arg("image"), py::arg("sigma_row"), py::arg("sigma_col"), py::arg("mode"), py::arg("cval"),
      py::arg("truncate"), "Laplacian of Gaussian (private; see segen.filters.gaussian_laplace).");

  m.def(
      "edge_filter",
      [](const py::array& image, const std::string& op, int axis, const std::string& mode, double cval,
         bool with_direction) -> py::object {
        segen::EdgeOperator eop;
        if (op == "sobel")
          eop = segen::EdgeOperator::Sobel;
        else if (op == "scharr")
          eop = segen::EdgeOperator::Scharr;
        else
          throw segen::InvalidArgument("`operator` must be 'sobel' or 'scharr'; got '" + op + "'");
        const auto which = axis == 0   ? segen::EdgeOutput::Row
                           : axis == 1 ? segen::EdgeOutput::Col
                                       : segen::EdgeOutput::Magnitude;
        const auto border = parse_border(mode);
        return dispatch_image_dtype(image, "image", [&](auto tag) -> py::object {
          using T = typename decltype(tag)::type;
          using O = segen::filter_output_t<T>;
          auto src = image_view<const T>(image, "image");
          const std::ptrdiff_t c = image.ndim() == 3 ? src.channels : 0;
          auto out = new_array<O>(src.height, src.width, c);
          auto dst = image_view<O>(out, "out");
          py::array_t<O> dir;
          segen::ImageView<O> dir_view;
          if (with_direction) {
            dir = new_array<O>(src.height, src.width, c);
            dir_view = image_view<O>(dir, "direction");
          }
          {
            NoGil nogil;  // no Python objects are touched inside this block
            segen::edge_filter_into<T, O>(src, dst, dir_view, eop, which, border, cval);
          }
          if (with_direction) return py::make_tuple(out, dir);
          return std::move(out);
        });
      },
      py::arg("image"), py::arg("operator"), py::arg("axis"), py::arg("mode"), py::arg("cval"),
      py::arg("direction"), "Sobel/Scharr gradients (private; see segen.filters.sobel).");
}
