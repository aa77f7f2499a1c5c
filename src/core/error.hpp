#pragma once
/// @file
/// The one exception family of dcpbench, and the process exit codes it maps to.
///
/// Everything below `main` reports failure by throwing one of these; `cli/main.cpp` catches them
/// in one place, prints a rank-tagged one-line message and returns `exit_code()`.

#include <stdexcept>
#include <string>

namespace dcp {

/// Exit codes shared by every subcommand (documented in the README).
enum class ExitCode : int {
  kSuccess = 0,      ///< everything ran and every check passed
  kCheckFailed = 1,  ///< a check failed: verification mismatch, diag FAIL, compare regression
  kUsage = 2,        ///< usage or input error: bad flag, bad config field, unreadable file
  kRuntime = 3,  ///< environment or runtime error: no CUDA device, timeout, CUDA/NCCL/MPI failure
};

/// Base of all dcpbench errors.
class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& what) : std::runtime_error(what) {}
  [[nodiscard]] virtual ExitCode exit_code() const noexcept { return ExitCode::kRuntime; }
};

/// Bad user input: a flag, a config field, an unreadable or malformed file. Exit code 2.
/// The message names the field, the value given and what is accepted.
class ConfigError : public Error {
 public:
  using Error::Error;
  [[nodiscard]] ExitCode exit_code() const noexcept override { return ExitCode::kUsage; }
};

/// The machine cannot run what was asked: no CUDA device, unsupported GPU, missing library.
class EnvironmentError : public Error {
 public:
  using Error::Error;
};

/// A CUDA runtime or driver call failed.
class CudaError : public Error {
 public:
  using Error::Error;
};

/// An NCCL call failed.
class NcclError : public Error {
 public:
  using Error::Error;
};

/// An MPI call failed.
class MpiError : public Error {
 public:
  using Error::Error;
};

/// A bounded wait ran out: a device spin on a peer, a host barrier, a collective.
/// Kept apart from verification failures: a timeout says nothing about the data.
class TimeoutError : public Error {
 public:
  using Error::Error;
};

/// Received data differed from the expected pattern. Exit code 1.
class VerificationError : public Error {
 public:
  using Error::Error;
  [[nodiscard]] ExitCode exit_code() const noexcept override { return ExitCode::kCheckFailed; }
};

/// Throws `ErrorType(message)` built from `where` and `what` (used by the check macros).
[[noreturn]] void throw_check_failure(const char* expr, const char* file, int line,
                                      const std::string& message);

}  // namespace dcp

/// Throws dcp::Error (exit code 3) with expression, file and line when `cond` is false: for
/// internal invariants. User input is validated explicitly with ConfigError instead.
#define DCP_CHECK(cond, message)                                                   \
  do {                                                                             \
    if (!(cond)) ::dcp::throw_check_failure(#cond, __FILE__, __LINE__, (message)); \
  } while (0)
