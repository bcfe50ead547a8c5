// Binding for segen/transform.hpp: argument conversion and GIL release only.

#include <pybind11/stl.h>

#include <array>
#include <optional>
#include <string>

#include "ndarray.hpp"
#include "segen/transform.hpp"

namespace py = pybind11;
using namespace segen::bind;

namespace {

segen::Interp parse_method(const std::string& method, bool allow_area) {
  if (method == "nearest") return segen::Interp::Nearest;
  if (method == "bilinear") return segen::Interp::Bilinear;
  if (allow_area && method == "area") return segen::Interp::Area;
  throw segen::InvalidArgument(std::string("`method` must be one of 'nearest', 'bilinear'") +
                               (allow_area ? ", 'area'" : "") + "; got '" + method + "'");
}

}  // namespace

void bind_transform(py::module_& m) {
  m.def(
      "flip",
      [](const py::array& image, int axis) -> py::array {
        return dispatch_image_dtype(image, "image", [&](auto tag) -> py::array {
          using T = typename decltype(tag)::type;
          auto src = image_view<const T>(image, "image");
          auto out = fill_new_array<T>(src.height, src.width, image.ndim() == 3 ? src.channels : 0, [&](auto dst) {
            segen::flip_into<T>(src, dst, axis);
          });
          return out;
        });
      },
      py::arg("image"), py::arg("axis"), "Flip an image (private; see segen.transform.flip).");

  m.def(
      "resize",
      [](const py::array& image, std::ptrdiff_t height, std::ptrdiff_t width, const std::string& method,
         bool anti_aliasing) -> py::array {
        const segen::Interp interp = parse_method(method, true);
        return dispatch_image_dtype(image, "image", [&](auto tag) -> py::array {
          using T = typename decltype(tag)::type;
          auto src = image_view<const T>(image, "image");
          // Validate the size before allocating (resize_into checks it again).
          if (height < 1 || width < 1 || height > segen::kMaxOutputPixels / width)
            throw segen::InvalidArgument("`output_shape` (" + std::to_string(height) + ", " + std::to_string(width) +
                                         ") must be positive and at most 2**30 pixels");
          auto out = fill_new_array<T>(height, width, image.ndim() == 3 ? src.channels : 0, [&](auto dst) {
            segen::resize_into<T>(src, dst, interp, anti_aliasing);
          });
          return out;
        });
      },
      py::arg("image"), py::arg("height"), py::arg("width"), py::arg("method") = "bilinear",
      py::arg("anti_aliasing") = false, "Resize an image (private; see segen.transform.resize).");

  m.def(
      "rotated_shape",
      [](std::ptrdiff_t height, std::ptrdiff_t width, double angle, bool resize) {
        return segen::rotated_shape(height, width, angle, resize);
      },
      py::arg("height"), py::arg("width"), py::arg("angle"), py::arg("resize"),
      "Output shape of rotate (private; see segen.transform.rotate).");

  m.def(
      "rotate",
      [](const py::array& image, double angle, bool resize, std::optional<std::array<double, 2>> center,
         double cval, const std::string& method) -> py::array {
        segen::RotateOptions opt;
        opt.resize = resize;
        opt.center = center;
        opt.cval = cval;
        opt.method = parse_method(method, false);
        return dispatch_image_dtype(image, "image", [&](auto tag) -> py::array {
          using T = typename decltype(tag)::type;
          auto src = image_view<const T>(image, "image");
          const auto shape = segen::rotated_shape(src.height, src.width, angle, resize);
          auto out = fill_new_array<T>(shape[0], shape[1], image.ndim() == 3 ? src.channels : 0, [&](auto dst) {
            segen::rotate_into<T>(src, dst, angle, opt);
          });
          return out;
        });
      },
      py::arg("image"), py::arg("angle"), py::arg("resize") = false, py::arg("center") = py::none(),
      py::arg("cval") = 0.0, py::arg("method") = "bilinear", "Rotate an image (private; see segen.transform.rotate).");
}
