#pragma once
/// @file
/// The NCCL communicator and everything that depends on the NCCL version.
///
/// nccl_comm.cpp is the only file with NCCL version checks (#if NCCL_VERSION_CODE and run-time
/// ncclGetVersion comparisons). Everything newer than the oldest library we run with is reached
/// through entry points resolved at run time (dlsym), so a binary built against new headers still
/// starts with an older libnccl.so and reports what it cannot do through the capability queries
/// below instead of failing to load. No fmt here: CUDA translation units include this header.

#include <nccl.h>

#include <cstddef>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

struct ncclDevComm;        // nccl_device/core.h (NCCL >= 2.28)
struct ncclWindow_vidmem;  // nccl.h: ncclWindow_t (NCCL >= 2.27)

namespace dcp {
class World;
}

namespace dcp::baseline {

// ---------------------------------------------------------------------------------------------
// Versions and capabilities

/// Version of the NCCL library loaded at run time (ncclGetVersion), e.g. "2.28.9".
[[nodiscard]] std::string loaded_nccl_version();
/// Version of the NCCL headers this binary was compiled against (NCCL_VERSION_CODE).
[[nodiscard]] std::string compiled_nccl_version();
/// A warning when the loaded library differs from the compiled headers: says which is which, and
/// that nccl-device needs a 2.28.9 or newer library. nullopt when they match.
[[nodiscard]] std::optional<std::string> nccl_version_warning();

/// Whether the loaded library has ncclAlltoAll (NCCL >= 2.28). Without it the all-to-alls are
/// grouped ncclSend/ncclRecv, one pair per peer.
[[nodiscard]] bool has_alltoall();
/// Why symmetric windows (ncclMemAlloc + ncclCommWindowRegister) cannot be used; nullopt if they
/// can.
[[nodiscard]] std::optional<std::string> window_api_unsupported_reason();
/// Why NCCL's device API cannot be used with the loaded library and the compiled headers (run-time
/// library >= 2.28.9, headers >= 2.28.9, same major.minor since the device code is inlined from
/// the headers); nullopt if it can. GPU and LSA-team checks are the caller's.
[[nodiscard]] std::optional<std::string> device_api_unsupported_reason();

// ---------------------------------------------------------------------------------------------
// Errors

/// Throws NcclError: `expr` failed with `result`, at file:line, with ncclGetLastError(comm).
[[noreturn]] void throw_nccl_error(ncclResult_t result, const char* expr, const char* file,
                                   int line, ncclComm_t comm);

}  // namespace dcp::baseline

/// Checks an NCCL call that does not run on a non-blocking communicator (ncclGetUniqueId,
/// ncclMemAlloc, ...): anything but ncclSuccess throws dcp::NcclError with ncclGetLastError.
#define DCP_NCCL_CHECK(expr)                                                         \
  do {                                                                               \
    const ncclResult_t dcp_nccl_r_ = (expr);                                         \
    if (dcp_nccl_r_ != ncclSuccess) {                                                \
      ::dcp::baseline::throw_nccl_error(dcp_nccl_r_, #expr, __FILE__, __LINE__, {}); \
    }                                                                                \
  } while (0)

/// Checks a call on the non-blocking NcclComm `comm`: ncclInProgress is waited for (bounded by
/// the communicator's timeout), an error throws NcclError, the deadline TimeoutError.
#define DCP_NCCL_COMM_CHECK(comm, expr) (comm).complete((expr), #expr, __FILE__, __LINE__)

namespace dcp::baseline {

// ---------------------------------------------------------------------------------------------
// Bootstrap and communicator

/// How the ranks of one communicator find each other: MPI through dcp::World, or a single
/// process with no MPI at all (one rank, for tests).
struct NcclBootstrap {
  int rank = 0;
  int size = 1;
  /// "[rank r/host]", the prefix of every message.
  std::string tag;
  /// Bound on every collective wait (init, window registration, finalize), in seconds.
  std::function<double()> timeout_s;
  /// Copies rank 0's `data` into every rank's `data` (same size everywhere); bounded.
  std::function<void(std::span<std::byte> data, std::string_view what)> broadcast;
  /// Every rank's `mine` (same size everywhere), concatenated in rank order; bounded.
  std::function<std::vector<std::byte>(std::span<const std::byte> mine, std::string_view what)>
      allgather;

  /// Ranks and collectives of `world`, which must outlive the bootstrap.
  static NcclBootstrap from_world(const World& world);
  /// One rank, no MPI.
  static NcclBootstrap single_process(double timeout_s);
};

/// Opaque ncclWindow_t.
using NcclWindow = ncclWindow_vidmem*;

/// RAII NCCL communicator over all ranks of a bootstrap, on the current CUDA device. It is
/// created non-blocking (ncclConfig_t::blocking = 0) so that no NCCL call can hang the host: every
/// call that answers ncclInProgress is completed by polling ncclCommGetAsyncError against a
/// deadline, and a stuck communicator can be aborted.
class NcclComm {
 public:
  /// Collective: rank 0 makes the unique id, the bootstrap broadcasts it, every rank joins.
  /// Throws TimeoutError when not every rank joined within the bootstrap's timeout.
  explicit NcclComm(const NcclBootstrap& boot);
  /// ncclCommFinalize + ncclCommDestroy, bounded; ncclCommAbort when that does not complete.
  ~NcclComm();
  NcclComm(const NcclComm&) = delete;
  NcclComm& operator=(const NcclComm&) = delete;

  [[nodiscard]] ncclComm_t get() const { return comm_; }
  [[nodiscard]] int rank() const { return rank_; }
  [[nodiscard]] int size() const { return size_; }
  [[nodiscard]] int device() const { return device_; }
  [[nodiscard]] bool aborted() const { return comm_ == nullptr; }

  /// Completes a call made on this communicator (see DCP_NCCL_COMM_CHECK; the hot path): returns
  /// on ncclSuccess, polls while ncclInProgress, throws NcclError / TimeoutError.
  void complete(ncclResult_t result, const char* expr, const char* file, int line) const;
  /// Like complete(), but polls ncclCommGetAsyncError even after ncclSuccess: for management
  /// calls (init, finalize, windows, device communicators) that may finish in the background.
  void settle(ncclResult_t result, const char* expr, const char* file, int line) const;
  /// Waits until no operation is being issued in the background (ncclInProgress); throws
  /// NcclError for an asynchronous error, TimeoutError at the deadline.
  void wait_ready(std::string_view what) const;
  /// Throws NcclError if the communicator reports an asynchronous error (does not wait).
  void check_async(std::string_view what) const;
  /// ncclCommAbort: ends NCCL work stuck on peers. The communicator is unusable afterwards.
  void abort() noexcept;

  // Optional entry points (resolved at run time; see the capability queries above). Each
  // completes the call (waits out ncclInProgress) and throws on failure.

  /// ncclAlltoAll: `count` elements per peer. Requires has_alltoall().
  void alltoall(const void* send, void* recv, std::size_t count, ncclDataType_t type,
                cudaStream_t stream) const;
  /// ncclCommWindowRegister(NCCL_WIN_COLL_SYMMETRIC) of `bytes` at `base` (collective).
  [[nodiscard]] NcclWindow register_window(void* base, std::size_t bytes) const;
  /// ncclCommWindowDeregister (collective).
  void deregister_window(NcclWindow window) const;
  /// ncclDevCommCreate with `lsa_barriers` LSA barriers (collective). Requires
  /// device_api_unsupported_reason() == nullopt.
  void create_dev_comm(int lsa_barriers, ncclDevComm* out) const;
  /// ncclDevCommDestroy (collective).
  void destroy_dev_comm(const ncclDevComm* dev_comm) const;

 private:
  [[nodiscard]] double timeout_s() const;

  ncclComm_t comm_ = nullptr;
  int rank_ = 0;
  int size_ = 1;
  int device_ = 0;
  std::string tag_;
  std::function<double()> timeout_s_;
};

/// ncclMemAlloc: `bytes` of device memory on the current device suitable for symmetric windows.
[[nodiscard]] void* nccl_mem_alloc(std::size_t bytes);
/// ncclMemFree; reports instead of throwing.
void nccl_mem_free(void* ptr) noexcept;

}  // namespace dcp::baseline
