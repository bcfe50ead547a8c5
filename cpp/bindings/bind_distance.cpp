// Binding for segen/distance.hpp: argument conversion and GIL release only.

#include "ndarray.hpp"
#include "segen/distance.hpp"

namespace py = pybind11;
using namespace segen::bind;

void bind_distance(py::module_& m) {
  m.def(
      "distance_transform_edt",
      [](const py::array& mask, double sampling_row, double sampling_col) -> py::array {
        auto src = image_view<const std::uint8_t>(mask, "mask", false);
        auto out = fill_new_array<double>(src.height, src.width, 0, [&](auto dst) {
          segen::distance_transform_edt_into(src, dst, sampling_row, sampling_col);
        });
        return out;
      },
      py::arg("mask"), py::arg("sampling_row"), py::arg("sampling_col"),
      "Exact Euclidean distance transform (private; see segen.segmentation.distance_transform_edt).");
}
