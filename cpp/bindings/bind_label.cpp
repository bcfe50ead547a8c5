// Binding for segen/label.hpp: argument conversion and GIL release only.

#include <pybind11/stl.h>

#include "ndarray.hpp"
#include "segen/label.hpp"

namespace py = pybind11;
using namespace segen::bind;

namespace {

segen::Connectivity to_connectivity(int c) {
  if (c == 1) return segen::Connectivity::Four;
  if (c == 2) return segen::Connectivity::Eight;
  throw segen::InvalidArgument("`connectivity` must be 1 or 2; got " + std::to_string(c));
}

template <class T>
segen::ImageView<T> column_view(py::array_t<T>& a) {
  return segen::ImageView<T>(a.mutable_data(), a.shape(0), a.ndim() == 2 ? a.shape(1) : 1);
}

}  // namespace

void bind_label(py::module_& m) {
  m.def(
      "label",
      [](const py::array& mask, int connectivity) -> py::tuple {
        auto src = image_view<const std::uint8_t>(mask, "mask", false);
        const auto conn = to_connectivity(connectivity);
        std::int32_t n = 0;
        auto out = fill_new_array<std::int32_t>(src.height, src.width, 0, [&](auto dst) {
          n = segen::label_into(src, dst, conn);
        });
        return py::make_tuple(out, n);
      },
      py::arg("mask"), py::arg("connectivity"), "Connected components (private).");

  m.def(
      "remove_small_objects",
      [](const py::array& labels, std::int64_t max_size) -> py::array {
        auto src = image_view<const std::int32_t>(labels, "labels", false);
        auto out = fill_new_array<std::int32_t>(src.height, src.width, 0, [&](auto dst) {
          segen::remove_small_objects_into(src, dst, max_size);
        });
        return out;
      },
      py::arg("labels"), py::arg("max_size"), "Remove small regions (private).");

  m.def(
      "find_boundaries",
      [](const py::array& labels, int connectivity, const std::string& mode, std::int32_t background) -> py::array {
        auto src = image_view<const std::int32_t>(labels, "label_image", false);
        const auto conn = to_connectivity(connectivity);
        segen::BoundaryMode bm;
        if (mode == "thick") bm = segen::BoundaryMode::Thick;
        else if (mode == "inner") bm = segen::BoundaryMode::Inner;
        else if (mode == "outer") bm = segen::BoundaryMode::Outer;
        else throw segen::InvalidArgument("`mode` must be 'thick', 'inner' or 'outer'; got '" + mode + "'");
        auto out = fill_new_array<std::uint8_t>(src.height, src.width, 0, [&](auto dst) {
          segen::find_boundaries_into(src, dst, conn, bm, background);
        });
        return out;
      },
      py::arg("label_image"), py::arg("connectivity"), py::arg("mode"), py::arg("background"),
      "Region boundaries (private).");

  m.def(
      "regionprops",
      [](const py::array& labels, const py::object& intensity, std::int32_t max_label) -> py::tuple {
        auto lab = image_view<const std::int32_t>(labels, "label_image", false);
        const std::ptrdiff_t L = static_cast<std::ptrdiff_t>(max_label) + 1;
        py::array_t<std::int64_t> area(L);
        py::array_t<double> centroid({L, std::ptrdiff_t(2)});
        py::array_t<std::int32_t> bbox({L, std::ptrdiff_t(4)});
        segen::RegionMeasurements out;
        out.area = column_view(area);
        out.centroid = column_view(centroid);
        out.bbox = column_view(bbox);
        if (intensity.is_none()) {
          {
            NoGil nogil;
            segen::regionprops_into<float>(lab, segen::ImageView<const float>(), max_label, out);
          }
          return py::make_tuple(area, centroid, bbox, py::none());
        }
        const py::array img = intensity.cast<py::array>();
        return dispatch_image_dtype(img, "intensity_image", [&](auto tag) -> py::tuple {
          using T = typename decltype(tag)::type;
          auto iv = image_view<const T>(img, "intensity_image");
          py::array_t<double> mean({L, std::ptrdiff_t(iv.channels)});
          out.mean_intensity = column_view(mean);
          {
            NoGil nogil;
            segen::regionprops_into<T>(lab, iv, max_label, out);
          }
          return py::make_tuple(area, centroid, bbox, mean);
        });
      },
      py::arg("label_image"), py::arg("intensity_image"), py::arg("max_label"), "Region measurements (private).");

  m.def(
      "merge_regions",
      [](const py::array& labels, const py::array& image, double threshold, int connectivity) -> py::tuple {
        auto lab = image_view<const std::int32_t>(labels, "label_image", false);
        const auto conn = to_connectivity(connectivity);
        return dispatch_image_dtype(image, "image", [&](auto tag) -> py::tuple {
          using T = typename decltype(tag)::type;
          auto iv = image_view<const T>(image, "image");
          std::int32_t n = 0;
          auto out = fill_new_array<std::int32_t>(lab.height, lab.width, 0, [&](auto dst) {
            n = segen::merge_regions_into<T>(lab, iv, dst, threshold, conn);
          });
          return py::make_tuple(out, n);
        });
      },
      py::arg("label_image"), py::arg("image"), py::arg("threshold"), py::arg("connectivity"),
      "Merge adjacent regions of similar mean colour (private).");
}
