// The segen._core extension: exception translation, the thread knob, and one bind_<area>() per header.
// No algorithms live here.

#include <pybind11/pybind11.h>

#include <cstdint>
#include <exception>
#include <new>  // std::bad_alloc

#if defined(__linux__)
#include <dlfcn.h>
#endif

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

namespace {
// numpy's tracemalloc domain (NPY_TRACE_DOMAIN): large outputs show up where numpy's arrays do.
constexpr unsigned int kNumpyTraceDomain = 389047;

#if defined(__linux__)
// PyTraceMalloc_Track/Untrack, looked up at run time: CPython 3.11's tracemalloc.h declares them without
// extern "C", so a C++ call would name a mangled symbol that the interpreter does not export.
using TrackFn = int (*)(unsigned int, std::uintptr_t, std::size_t);
using UntrackFn = int (*)(unsigned int, std::uintptr_t);
const TrackFn g_track = reinterpret_cast<TrackFn>(dlsym(RTLD_DEFAULT, "PyTraceMalloc_Track"));
const UntrackFn g_untrack = reinterpret_cast<UntrackFn>(dlsym(RTLD_DEFAULT, "PyTraceMalloc_Untrack"));
#endif
}  // namespace

LargeOutput* alloc_large_output(std::size_t bytes) {
#if defined(__linux__)
  LargeOutput* o = nullptr;
  try {
    o = new LargeOutput{};
    o->data = acquire_large_block(bytes, &o->capacity);
  } catch (const std::bad_alloc&) {
    delete o;
    return nullptr;
  }
  if (g_track) g_track(kNumpyTraceDomain, reinterpret_cast<std::uintptr_t>(o->data), bytes);
  return o;
#else
  (void)bytes;
  return nullptr;
#endif
}

void free_large_output(void* owner) {
  auto* o = static_cast<LargeOutput*>(owner);
#if defined(__linux__)
  if (g_untrack) g_untrack(kNumpyTraceDomain, reinterpret_cast<std::uintptr_t>(o->data));
#endif
  release_large_block(o->data, o->capacity);
  delete o;
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
  m.def("set_scratch_cache_limit", &segen::set_scratch_cache_limit, py::arg("nbytes"));
  m.def("scratch_cache_limit", &segen::scratch_cache_limit);
  m.def("default_scratch_cache_limit", &segen::default_scratch_cache_limit);
  m.def("scratch_cache_held", &segen::scratch_cache_held);
  m.attr("DEFAULT_SCRATCH_CACHE") = segen::kDefaultScratchCache;

  bind_filters(m);
  bind_features(m);
  bind_color(m);
  bind_transform(m);
  bind_cluster(m);
  bind_watershed(m);
  bind_label(m);
  bind_distance(m);
}
