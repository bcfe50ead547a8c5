#pragma once
/// @file error.hpp
/// @brief Exceptions thrown by segen. Messages name the offending parameter in backticks, state what was
/// expected and what was received, e.g. "`sigma` must be > 0; got -1".

#include <stdexcept>  // std::runtime_error
#include <string>     // std::string

#include "segen/export.hpp"

namespace segen {

/// @brief Base of every exception segen throws (Python: `segen.SegenError`).
class SEGEN_API Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// @brief A parameter has a bad value or shape (Python: `ValueError`).
class SEGEN_API InvalidArgument : public Error {
 public:
  using Error::Error;
};

/// @brief A parameter has an unsupported element type (Python: `TypeError`).
class SEGEN_API TypeMismatch : public Error {
 public:
  using Error::Error;
};

/// @brief A long operation was stopped by the calling thread's interrupt check (see parallel.hpp;
/// Python: the `KeyboardInterrupt` that stopped it). Outputs are then incomplete and must be discarded.
class SEGEN_API Interrupted : public Error {
 public:
  using Error::Error;
};

}  // namespace segen
