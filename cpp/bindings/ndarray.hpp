#pragma once
// numpy <-> segen::ImageView conversion for the binding. The binding is strict: it accepts only
// C-contiguous arrays of exactly the dtype a kernel is built for, and names the argument when it refuses
// one. Conversions (dtype policy, contiguity, channel_axis) belong to the Python wrappers.

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "segen/error.hpp"
#include "segen/image.hpp"
#include "segen/parallel.hpp"

namespace segen::bind {

namespace py = pybind11;

template <class T> struct Tag { using type = T; };

template <class T> constexpr const char* dtype_name() {
  using U = std::remove_const_t<T>;
  if constexpr (std::is_same_v<U, std::uint8_t>) return "uint8";
  else if constexpr (std::is_same_v<U, std::uint16_t>) return "uint16";
  else if constexpr (std::is_same_v<U, std::int32_t>) return "int32";
  else if constexpr (std::is_same_v<U, std::int64_t>) return "int64";
  else if constexpr (std::is_same_v<U, float>) return "float32";
  else if constexpr (std::is_same_v<U, double>) return "float64";
  else if constexpr (std::is_same_v<U, bool>) return "bool";
  else return "unknown";
}

template <class T> bool has_dtype(const py::array& a) {
  using U = std::remove_const_t<T>;
  const py::dtype dt = a.dtype();
  const char kind = dt.kind();
  if (dt.itemsize() != static_cast<py::ssize_t>(sizeof(U))) return false;
  if constexpr (std::is_same_v<U, bool>) return kind == 'b';
  else if constexpr (std::is_floating_point_v<U>) return kind == 'f';
  else if constexpr (std::is_signed_v<U>) return kind == 'i';
  else return kind == 'u';
}

inline std::string shape_of(const py::array& a) {
  std::string s = "(";
  for (py::ssize_t i = 0; i < a.ndim(); ++i) s += (i ? ", " : "") + std::to_string(a.shape(i));
  if (a.ndim() == 1) s += ",";
  return s + ")";
}

/// View a (H, W) or (H, W, C) array; `channels_allowed` false means only (H, W) is accepted.
template <class T>
ImageView<T> image_view(const py::array& a, const char* name, bool channels_allowed = true) {
  if (!has_dtype<T>(a))
    throw TypeMismatch(std::string("`") + name + "` must have dtype " + dtype_name<T>() + "; got " +
                       std::string(py::str(a.dtype())));
  if (a.ndim() != 2 && !(channels_allowed && a.ndim() == 3))
    throw InvalidArgument(std::string("`") + name + "` must be " +
                          (channels_allowed ? "2-D (H, W) or 3-D (H, W, C)" : "2-D (H, W)") + "; got shape " +
                          shape_of(a));
  if (!(a.flags() & py::array::c_style))
    throw InvalidArgument(std::string("`") + name + "` must be C-contiguous");
  if constexpr (!std::is_const_v<T>) {
    if (!a.writeable()) throw InvalidArgument(std::string("`") + name + "` must be writeable");
  }
  void* ptr = const_cast<void*>(a.data());
  const std::ptrdiff_t h = a.shape(0), w = a.shape(1), c = a.ndim() == 3 ? a.shape(2) : 1;
  return ImageView<T>(static_cast<T*>(ptr), h, w, c);
}

/// Outputs of at least this many bytes start on a 2 MiB boundary with transparent huge pages requested
/// (numpy asks for huge pages from 4 MiB too). numpy's own buffers start 16 bytes past a page, so the
/// first up-to-2 MiB of a fresh output is faulted in 4 KiB pages: ~500 faults, about 1 ms of a 48 MB
/// output's first touch.
constexpr std::size_t kLargeOutputBytes = std::size_t(4) << 20;

/// A large output's memory: a block of segen::acquire_large_block, which the capsule owning the array
/// points to.
struct LargeOutput {
  void* data = nullptr;
  std::size_t capacity = 0;
};

/// Memory for a large output (nullptr where the platform has no huge pages or the allocation failed: the
/// caller then falls back to numpy's allocator), tracked by tracemalloc in numpy's domain: a block the scratch
/// cache keeps when one fits (the memory of a large result freed before, already in place: no page faults),
/// else a fresh one. Released by free_large_output, the capsule's destructor, which gives the block back to
/// the cache (segen::release_large_block).
LargeOutput* alloc_large_output(std::size_t bytes);
void free_large_output(void* owner);

/// A new C-contiguous array of shape (h, w) when c == 0, else (h, w, c). Large ones (kLargeOutputBytes)
/// own their memory through a capsule base instead of numpy's allocator (see alloc_large_output).
template <class T>
py::array_t<T> new_array(std::ptrdiff_t h, std::ptrdiff_t w, std::ptrdiff_t c = 0) {
  std::vector<py::ssize_t> shape{static_cast<py::ssize_t>(h), static_cast<py::ssize_t>(w)};
  if (c != 0) shape.push_back(static_cast<py::ssize_t>(c));
  std::size_t bytes = sizeof(T);
  bool fits = true;
  for (py::ssize_t n : shape) {
    fits = fits && n >= 0 && (n == 0 || bytes <= std::numeric_limits<std::size_t>::max() / std::size_t(n));
    if (fits) bytes *= std::size_t(n);
  }
  LargeOutput* block = fits && bytes >= kLargeOutputBytes ? alloc_large_output(bytes) : nullptr;
  if (!block) return py::array_t<T>(shape);  // numpy allocates (and reports an impossible size itself)
  T* p = static_cast<T*>(block->data);
  py::capsule owner;
  try {
    owner = py::capsule(block, &free_large_output);
  } catch (...) {
    free_large_output(block);
    throw;
  }
  return py::array_t<T>(shape, p, owner);
}

/// True when the interpreter has a pending signal whose handler raised (Ctrl-C: KeyboardInterrupt): the
/// interrupt check of core calls made from the main thread. The exception stays set for the binding to
/// raise when the core stops with segen::Interrupted (module.cpp).
bool python_interrupt_requested();

/// Whether the calling thread is Python's main thread (the only one that runs signal handlers).
bool on_python_main_thread();

/// Releases the GIL for a core call (which touches no Python object) and, on the main thread, lets Ctrl-C
/// stop it: the core polls python_interrupt_requested between blocks and in its long loops.
class NoGil {
 public:
  NoGil() : scope_(on_python_main_thread() ? &python_interrupt_requested : nullptr) {}

 private:
  InterruptScope scope_;
  py::gil_scoped_release release_;
};

/// A new array of shape (h, w) (c == 0) or (h, w, c), filled by `fill(view)` with the GIL released (the
/// core touches no Python object): the bindings' "allocate the result, compute into it" step.
template <class O, class F>
py::array_t<O> fill_new_array(std::ptrdiff_t h, std::ptrdiff_t w, std::ptrdiff_t c, F&& fill) {
  auto out = new_array<O>(h, w, c);
  auto dst = image_view<O>(out, "out");
  {
    NoGil nogil;
    fill(dst);
  }
  return out;
}

/// Call `f(Tag<T>{})` with T the element type of `a`, among the four image dtypes.
template <class F>
decltype(auto) dispatch_image_dtype(const py::array& a, const char* name, F&& f) {
  if (has_dtype<std::uint8_t>(a)) return f(Tag<std::uint8_t>{});
  if (has_dtype<std::uint16_t>(a)) return f(Tag<std::uint16_t>{});
  if (has_dtype<float>(a)) return f(Tag<float>{});
  if (has_dtype<double>(a)) return f(Tag<double>{});
  throw TypeMismatch(std::string("`") + name + "` must have dtype uint8, uint16, float32 or float64; got " +
                     std::string(py::str(a.dtype())));
}

/// Parse a border-mode name (scipy.ndimage's spelling).
Border parse_border(const std::string& mode);

}  // namespace segen::bind

// One function per C++ header, each in bind_<area>.cpp.
void bind_filters(pybind11::module_& m);
void bind_features(pybind11::module_& m);
void bind_color(pybind11::module_& m);
void bind_transform(pybind11::module_& m);
void bind_cluster(pybind11::module_& m);
void bind_watershed(pybind11::module_& m);
void bind_label(pybind11::module_& m);
void bind_distance(pybind11::module_& m);
