// Binding for segen/cluster.hpp: argument conversion and GIL release only.

#include "ndarray.hpp"
#include "segen/cluster.hpp"

namespace py = pybind11;
using namespace segen::bind;

namespace {

template <class F>
decltype(auto) dispatch_float(const py::array& a, const char* name, F&& f) {
  if (has_dtype<float>(a)) return f(Tag<float>{});
  if (has_dtype<double>(a)) return f(Tag<double>{});
  throw segen::TypeMismatch(std::string("`") + name + "` must have dtype float32 or float64; got " +
                            std::string(py::str(a.dtype())));
}

}  // namespace

void bind_cluster(py::module_& m) {
  m.def(
      "kmeans",
      [](const py::array& X, int k, const std::string& init, const py::object& init_centers, int n_init, int max_iter,
         double tol, std::uint64_t seed) -> py::tuple {
        segen::KMeansOptions o;
        if (init == "k-means++") o.init = segen::KMeansInit::KMeansPlusPlus;
        else if (init == "random") o.init = segen::KMeansInit::Random;
        else if (init == "given") o.init = segen::KMeansInit::Given;
        else throw segen::InvalidArgument("`init` must be 'k-means++', 'random' or an array; got '" + init + "'");
        o.n_init = n_init;
        o.max_iter = max_iter;
        o.tol = tol;
        o.seed = seed;
        return dispatch_float(X, "X", [&](auto tag) -> py::tuple {
          using T = typename decltype(tag)::type;
          auto xv = image_view<const T>(X, "X", false);
          segen::ImageView<const T> cv;
          if (o.init == segen::KMeansInit::Given) cv = image_view<const T>(init_centers.cast<py::array>(), "init", false);
          py::array_t<std::int32_t> labels(xv.height);
          auto centers = new_array<T>(k > 0 ? k : 0, xv.width);
          segen::ImageView<std::int32_t> lv(labels.mutable_data(), xv.height, 1);
          segen::ImageView<T> cen(centers.mutable_data(), k > 0 ? k : 0, xv.width);
          segen::KMeansInfo info;
          {
            NoGil nogil;
            info = segen::kmeans_into<T>(xv, k, o, cv, lv, cen);
          }
          return py::make_tuple(labels, centers, info.inertia, info.n_iter);
        });
      },
      py::arg("X"), py::arg("k"), py::arg("init"), py::arg("init_centers"), py::arg("n_init"), py::arg("max_iter"),
      py::arg("tol"), py::arg("seed"), "k-means (private; see segen.cluster.kmeans).");

  m.def(
      "dbscan",
      [](const py::array& X, double eps, int min_samples) -> py::tuple {
        return dispatch_float(X, "X", [&](auto tag) -> py::tuple {
          using T = typename decltype(tag)::type;
          auto xv = image_view<const T>(X, "X", false);
          py::array_t<std::int32_t> labels(xv.height);
          py::array_t<bool> core(xv.height);
          segen::ImageView<std::int32_t> lv(labels.mutable_data(), xv.height, 1);
          segen::ImageView<std::uint8_t> cv(reinterpret_cast<std::uint8_t*>(core.mutable_data()), xv.height, 1);
          std::int32_t n = 0;
          {
            NoGil nogil;
            n = segen::dbscan_into<T>(xv, eps, min_samples, lv, cv);
          }
          return py::make_tuple(labels, core, n);
        });
      },
      py::arg("X"), py::arg("eps"), py::arg("min_samples"), "DBSCAN (private; see segen.cluster.dbscan).");
}
