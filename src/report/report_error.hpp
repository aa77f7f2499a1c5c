#pragma once
/// @file
/// The error a report reader or writer throws.

#include "core/error.hpp"

namespace dcp::report {

/// A report (or a comparison, or a thresholds file) could not be read or written: unreadable
/// file, not JSON, truncated, another schema major version, a missing or wrong-typed field, an
/// unwritable output path, or two reports that cannot be compared. Exit code 2 (it is a
/// ConfigError: bad input from the user's point of view). The message is one line and names the
/// file and, where there is one, the field.
class ReportError : public ConfigError {
 public:
  using ConfigError::ConfigError;
};

}  // namespace dcp::report
