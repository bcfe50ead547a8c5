// Binding for segen/watershed.hpp: argument conversion and GIL release only.

#include <vector>

#include "ndarray.hpp"
#include "segen/watershed.hpp"

namespace py = pybind11;
using namespace segen::bind;

void bind_watershed(py::module_& m) {
  m.def(
      "watershed",
      [](const py::array& image, const py::array& markers, const py::object& mask, int connectivity,
         double compactness, bool watershed_line) -> py::array {
        segen::WatershedOptions o;
        if (connectivity == 1) o.connectivity = segen::Connectivity::Four;
        else if (connectivity == 2) o.connectivity = segen::Connectivity::Eight;
        else throw segen::InvalidArgument("`connectivity` must be 1 or 2; got " + std::to_string(connectivity));
        o.compactness = compactness;
        o.watershed_line = watershed_line;
        auto mk = image_view<const std::int32_t>(markers, "markers", false);
        segen::ImageView<const std::uint8_t> ms;
        if (!mask.is_none()) ms = image_view<const std::uint8_t>(mask.cast<py::array>(), "mask", false);
        return dispatch_image_dtype(image, "image", [&](auto tag) -> py::array {
          using T = typename decltype(tag)::type;
          auto src = image_view<const T>(image, "image", false);
          auto out = fill_new_array<std::int32_t>(src.height, src.width, 0, [&](auto dst) {
            segen::watershed_into<T>(src, mk, ms, dst, o);
          });
          return out;
        });
      },
      py::arg("image"), py::arg("markers"), py::arg("mask"), py::arg("connectivity"), py::arg("compactness"),
      py::arg("watershed_line"), "Marker-based watershed (private; see segen.segmentation.watershed).");

  m.def(
      "local_minima",
      [](const py::array& image, int connectivity) -> py::array {
        const auto conn = connectivity == 2 ? segen::Connectivity::Eight : segen::Connectivity::Four;
        return dispatch_image_dtype(image, "image", [&](auto tag) -> py::array {
          using T = typename decltype(tag)::type;
          auto src = image_view<const T>(image, "image", false);
          auto out = fill_new_array<std::int32_t>(src.height, src.width, 0, [&](auto dst) {
            segen::local_minima_into<T>(src, dst, conn);
          });
          return out;
        });
      },
      py::arg("image"), py::arg("connectivity"), "Labelled regional minima (private).");

  m.def(
      "peak_local_max",
      [](const py::array& image, int min_distance, double threshold, int exclude_border,
         std::int64_t num_peaks) -> py::array {
        segen::PeakOptions o;
        o.min_distance = min_distance;
        o.threshold = threshold;
        o.exclude_border = exclude_border;
        o.num_peaks = num_peaks;
        std::vector<std::ptrdiff_t> peaks;
        dispatch_image_dtype(image, "image", [&](auto tag) {
          using T = typename decltype(tag)::type;
          auto src = image_view<const T>(image, "image", false);
          NoGil nogil;
          peaks = segen::peak_local_max<T>(src, o);
        });
        const std::ptrdiff_t np_ = static_cast<std::ptrdiff_t>(peaks.size() / 2);
        py::array_t<std::int64_t> out({np_, std::ptrdiff_t(2)});
        auto* p = out.mutable_data();
        for (std::size_t i = 0; i < peaks.size(); ++i) p[i] = peaks[i];
        return out;
      },
      py::arg("image"), py::arg("min_distance"), py::arg("threshold"), py::arg("exclude_border"),
      py::arg("num_peaks"), "Local maxima (private; see segen.segmentation.peak_local_max).");
}
