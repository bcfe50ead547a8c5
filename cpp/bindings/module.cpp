// The segen._core extension: exception translation, the thread knob, and one bind_<area>() per header.
// No algorithms live here.

#include <pybind11/pybind11.h>

#include <exception>

#include "ndarray.hpp"
#include "segen/error.hpp"
#include "segen/parallel.hpp"

namespace py = pybind11;

namespace segen::bind {

Border parse_border(const std::string& mode) {
  if (mode == "reflect") return Border::Reflect;
  if (mode == "mirror") return Border::Mirror;
  if (mode == "nearest") return Border::Nearest;
  if (mode == "constant") return Border::Constant;
  if (mode == "wrap") return Border::Wrap;
  throw InvalidArgument("`mode` must be one of 'reflect', 'mirror', 'nearest', 'constant', 'wrap'; got '" +
                        mode + "'");
}

namespace {
unsigned long g_main_thread = 0;  // threading.main_thread().ident, read when the module is imported
}  // namespace

bool on_python_main_thread() { return g_main_thread != 0 && PyThread_get_thread_ident() == g_main_thread; }

bool python_interrupt_requested() {
  py::gil_scoped_acquire gil;  // this thread released it for the core call
  return PyErr_CheckSignals() != 0;
}

}  // namespace segen::bind

namespace {

// Raise the Python class `name` from segen.errors (imported lazily: the module is pure Python).
void raise_from_errors_module(const char* name, const char* what) {
  py::object cls = py::module_::import("segen.errors").attr(name);
  PyErr_SetString(cls.ptr(), what);
}

}  // namespace

PYBIND11_MODULE(_core, m) {
  m.doc() = "segen's compiled core (private: use the segen package)";
  m.attr("__version__") = SEGEN_VERSION_INFO;

  segen::bind::g_main_thread =
      py::module_::import("threading").attr("main_thread")().attr("ident").cast<unsigned long>();
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const segen::Interrupted&) {
      // the signal handler's exception (KeyboardInterrupt for Ctrl-C) is already set: raise it
      if (!PyErr_Occurred()) PyErr_SetNone(PyExc_KeyboardInterrupt);
    } catch (const segen::InvalidArgument& e) {
      raise_from_errors_module("InvalidArgumentError", e.what());
    } catch (const segen::TypeMismatch& e) {
      raise_from_errors_module("DTypeError", e.what());
    } catch (const segen::Error& e) {
      raise_from_errors_module("SegenError", e.what());
    }
  });

  m.def("set_num_threads", &segen::set_num_threads, py::arg("n"));
  m.attr("MAX_THREADS") = segen::kMaxThreads;
  m.def("get_num_threads", &segen::get_num_threads);

  bind_filters(m);
  bind_features(m);
  bind_color(m);
  bind_transform(m);
  bind_cluster(m);
  bind_watershed(m);
  bind_label(m);
  bind_distance(m);
}
