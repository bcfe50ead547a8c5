// Binding for segen/color.hpp: argument conversion and GIL release only.

#include <string>

#include <pybind11/stl.h>

#include "ndarray.hpp"
#include "segen/color.hpp"

namespace py = pybind11;
using namespace segen::bind;

namespace {

// One binding for the four same-shape conversions: `kernel(src, dst)` fills a (H, W, out_channels) array
// (out_channels == 0 gives an (H, W) array) of color_float_t<T>: a new one, or the caller's `out`.
template <class Kernel>
py::array convert(const py::array& image, const py::object& out_arg, std::ptrdiff_t out_channels,
                  Kernel&& kernel) {
  return dispatch_image_dtype(image, "image", [&](auto tag) -> py::array {
    using T = typename decltype(tag)::type;
    using W = segen::color_float_t<T>;
    auto src = image_view<const T>(image, "image");
    if (src.channels != 3)
      throw segen::InvalidArgument("`image` must have shape (H, W, 3); got " + shape_of(image));
    py::array out;
    if (out_arg.is_none()) {
      out = new_array<W>(src.height, src.width, out_channels);
    } else {
      if (!py::isinstance<py::array>(out_arg))
        throw segen::TypeMismatch("`out` must be a numpy array or None");
      out = py::reinterpret_borrow<py::array>(out_arg);
      const bool ok = out.ndim() == (out_channels ? 3 : 2) && out.shape(0) == src.height &&
                      out.shape(1) == src.width && (out_channels == 0 || out.shape(2) == out_channels);
      if (!ok)
        throw segen::InvalidArgument(
            "`out` must have shape (" + std::to_string(src.height) + ", " + std::to_string(src.width) +
            (out_channels ? ", " + std::to_string(out_channels) : std::string()) + "); got " + shape_of(out));
    }
    auto dst = image_view<W>(out, "out");
    const auto* in_lo = reinterpret_cast<const char*>(src.data);
    const auto* out_lo = reinterpret_cast<const char*>(dst.data);
    if (in_lo < out_lo + dst.size() * sizeof(W) && out_lo < in_lo + src.size() * sizeof(T))
      throw segen::InvalidArgument("`out` must not overlap `image`");
    {
      NoGil nogil;  // no Python objects are touched inside this block
      kernel(src, dst);
    }
    return out;
  });
}

}  // namespace

void bind_color(py::module_& m) {
  m.def(
      "rgb2gray",
      [](const py::array& image, const py::object& out) {
        return convert(image, out, 0, [](auto src, auto dst) { segen::rgb2gray_into(src, dst); });
      },
      py::arg("image"), py::arg("out") = py::none(), "RGB to luminance (private; see segen.color.rgb2gray).");
  m.def(
      "rgb2hsv",
      [](const py::array& image, const py::object& out) {
        return convert(image, out, 3, [](auto src, auto dst) { segen::rgb2hsv_into(src, dst); });
      },
      py::arg("image"), py::arg("out") = py::none(), "RGB to HSV (private; see segen.color.rgb2hsv).");
  m.def(
      "hsv2rgb",
      [](const py::array& image, const py::object& out) {
        return convert(image, out, 3, [](auto src, auto dst) { segen::hsv2rgb_into(src, dst); });
      },
      py::arg("image"), py::arg("out") = py::none(), "HSV to RGB (private; see segen.color.hsv2rgb).");
  m.def(
      "rgb2lab",
      [](const py::array& image, const std::string& illuminant, const std::string& observer,
         const py::object& out) {
        segen::white_point(illuminant, observer);  // validate with the GIL held
        return convert(image, out, 3, [&](auto src, auto dst) { segen::rgb2lab_into(src, dst, illuminant, observer); });
      },
      py::arg("image"), py::arg("illuminant") = "D65", py::arg("observer") = "2",
      py::arg("out") = py::none(), "sRGB to CIE Lab (private; see segen.color.rgb2lab).");
  m.def("white_point", &segen::white_point, py::arg("illuminant") = "D65", py::arg("observer") = "2",
        "CIE XYZ of a reference white, Y = 1 (private; see segen.color.rgb2lab).");
}
