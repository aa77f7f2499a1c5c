#include "baseline/nccl_comm.hpp"

#include <cuda_runtime_api.h>
#include <dlfcn.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <thread>

#include <fmt/format.h>

#include "baseline/impls.hpp"
#include "core/cuda_check.hpp"
#include "core/error.hpp"
#include "core/limits.hpp"
#include "core/world.hpp"

// The device API's host types (ncclDevComm, ncclDevCommRequirements) exist from NCCL 2.28 on.
#if NCCL_VERSION_CODE >= NCCL_VERSION(2, 28, 0)
#include <nccl_device.h>
#define DCP_NCCL_HEADERS_HAVE_DEVICE_API 1
#else
#define DCP_NCCL_HEADERS_HAVE_DEVICE_API 0
#endif

namespace dcp::baseline {

namespace {

/// First library version whose device API ran nccl-tests' device alltoall correctly: 2.28.3
/// crashed in it with an illegal address (shared/docs/environment.md, anchors.md). One home:
/// nccl-device's registry row (baseline/impls.hpp).
constexpr int kDeviceApiMinMajor = kDeviceApiMinNccl.major;
constexpr int kDeviceApiMinMinor = kDeviceApiMinNccl.minor;
constexpr int kDeviceApiMinPatch = kDeviceApiMinNccl.patch;

struct Version {
  int major = 0;
  int minor = 0;
  int patch = 0;

  /// Decodes NCCL_VERSION_CODE: X*1000 + Y*100 + Z up to 2.8, X*10000 + Y*100 + Z after.
  static Version from_code(int code) {
    Version v;
    if (code >= 10000) {
      v.major = code / 10000;
      v.minor = (code % 10000) / 100;
    } else {
      v.major = code / 1000;
      v.minor = (code % 1000) / 100;
    }
    v.patch = code % 100;
    return v;
  }
  [[nodiscard]] bool at_least(int ma, int mi, int pa) const {
    if (major != ma) return major > ma;
    if (minor != mi) return minor > mi;
    return patch >= pa;
  }
  [[nodiscard]] std::string str() const { return fmt::format("{}.{}.{}", major, minor, patch); }
  friend bool operator==(const Version&, const Version&) = default;
};

Version compiled_version() {
  return Version{NCCL_MAJOR, NCCL_MINOR, NCCL_PATCH};
}

Version loaded_version() {
  static const Version v = [] {
    int code = 0;
    DCP_NCCL_CHECK(ncclGetVersion(&code));
    return Version::from_code(code);
  }();
  return v;
}

/// An entry point of the loaded libnccl (linked, hence in the global scope), or nullptr.
template <typename Fn>
Fn resolve(const char* name) {
  void* sym = dlsym(RTLD_DEFAULT, name);
  Fn fn = nullptr;
  static_assert(sizeof(fn) == sizeof(sym));
  std::memcpy(&fn, &sym, sizeof(fn));  // object pointer -> function pointer, as POSIX allows
  return fn;
}

// Signatures of the optional entry points, spelled out so this file also compiles against
// headers that lack them.
using AlltoAllFn = ncclResult_t (*)(const void*, void*, std::size_t, ncclDataType_t, ncclComm_t,
                                    cudaStream_t);
using MemAllocFn = ncclResult_t (*)(void**, std::size_t);
using MemFreeFn = ncclResult_t (*)(void*);
using WindowRegisterFn = ncclResult_t (*)(ncclComm_t, void*, std::size_t, NcclWindow*, int);
using WindowDeregisterFn = ncclResult_t (*)(ncclComm_t, NcclWindow);

/// NCCL_WIN_COLL_SYMMETRIC (nccl.h >= 2.27): every rank registers a buffer of the same size,
/// which makes the window reachable from peers' kernels at the same offsets.
constexpr int kWinCollSymmetric = 0x01;

struct EntryPoints {
  AlltoAllFn alltoall = resolve<AlltoAllFn>("ncclAlltoAll");
  MemAllocFn mem_alloc = resolve<MemAllocFn>("ncclMemAlloc");
  MemFreeFn mem_free = resolve<MemFreeFn>("ncclMemFree");
  WindowRegisterFn window_register = resolve<WindowRegisterFn>("ncclCommWindowRegister");
  WindowDeregisterFn window_deregister = resolve<WindowDeregisterFn>("ncclCommWindowDeregister");
#if DCP_NCCL_HEADERS_HAVE_DEVICE_API
  decltype(&::ncclDevCommCreate) dev_comm_create =
      resolve<decltype(&::ncclDevCommCreate)>("ncclDevCommCreate");
  decltype(&::ncclDevCommDestroy) dev_comm_destroy =
      resolve<decltype(&::ncclDevCommDestroy)>("ncclDevCommDestroy");
#endif
};

const EntryPoints& entry_points() {
  static const EntryPoints e;
  return e;
}

std::string result_text(ncclResult_t r, ncclComm_t comm) {
  std::string s = fmt::format("{} ({})", ncclGetErrorString(r), static_cast<int>(r));
  const char* last = ncclGetLastError(comm);
  if (last && *last) s += fmt::format(": {}", last);
  return s;
}

std::string missing(const char* fn) {
  return fmt::format("the loaded NCCL library {} has no {}", loaded_version().str(), fn);
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Versions and capabilities

std::string loaded_nccl_version() {
  return loaded_version().str();
}

std::string compiled_nccl_version() {
  return compiled_version().str();
}

std::optional<std::string> nccl_version_warning() {
  const Version loaded = loaded_version();
  const Version compiled = compiled_version();
  if (loaded == compiled) return std::nullopt;
  return fmt::format(
      "NCCL library {} is loaded but dcpbench was compiled against NCCL {} headers; nccl-device "
      "(NCCL's device API) needs a {}.{}.{} or newer library of the same minor version as the "
      "headers ({}.{}.3 crashes in it): put that library first in LD_LIBRARY_PATH",
      loaded.str(), compiled.str(), kDeviceApiMinMajor, kDeviceApiMinMinor, kDeviceApiMinPatch,
      kDeviceApiMinMajor, kDeviceApiMinMinor);
}

bool has_alltoall() {
  return entry_points().alltoall != nullptr;
}

std::optional<std::string> window_api_unsupported_reason() {
  const EntryPoints& e = entry_points();
  if (!e.mem_alloc || !e.mem_free) return missing("ncclMemAlloc/ncclMemFree");
  if (!e.window_register || !e.window_deregister) {
    return missing("ncclCommWindowRegister (symmetric windows need NCCL 2.27 or newer)");
  }
  return std::nullopt;
}

std::optional<std::string> device_api_unsupported_reason() {
  const Version loaded = loaded_version();
  const Version compiled = compiled_version();
  if (!compiled.at_least(kDeviceApiMinMajor, kDeviceApiMinMinor, kDeviceApiMinPatch)) {
    return fmt::format(
        "dcpbench was compiled against NCCL {} headers; NCCL's device API needs {}.{}.{} or newer",
        compiled.str(), kDeviceApiMinMajor, kDeviceApiMinMinor, kDeviceApiMinPatch);
  }
  if (!loaded.at_least(kDeviceApiMinMajor, kDeviceApiMinMinor, kDeviceApiMinPatch)) {
    return fmt::format(
        "the loaded NCCL library is {}; NCCL's device API needs {}.{}.{} or newer (2.28.3 crashed "
        "in device-API kernels): put a newer libnccl.so first in LD_LIBRARY_PATH",
        loaded.str(), kDeviceApiMinMajor, kDeviceApiMinMinor, kDeviceApiMinPatch);
  }
  if (loaded.major != compiled.major || loaded.minor != compiled.minor) {
    return fmt::format(
        "the loaded NCCL library {} differs in minor version from the NCCL {} headers dcpbench was "
        "compiled against; the device API's structures are inlined from the headers, so they must "
        "match",
        loaded.str(), compiled.str());
  }
  if (auto reason = window_api_unsupported_reason()) return reason;
#if DCP_NCCL_HEADERS_HAVE_DEVICE_API
  const EntryPoints& e = entry_points();
  if (!e.dev_comm_create || !e.dev_comm_destroy) return missing("ncclDevCommCreate");
  return std::nullopt;
#else
  return std::string("NCCL's device API headers (nccl_device.h) were not available at build time");
#endif
}

// ---------------------------------------------------------------------------------------------
// Errors

void throw_nccl_error(ncclResult_t result, const char* expr, const char* file, int line,
                      ncclComm_t comm) {
  throw NcclError(
      fmt::format("NCCL error {} in {} at {}:{}", result_text(result, comm), expr, file, line));
}

// ---------------------------------------------------------------------------------------------
// Bootstrap

NcclBootstrap NcclBootstrap::from_world(const World& world) {
  NcclBootstrap b;
  b.rank = world.rank();
  b.size = world.size();
  b.tag = world.tag();
  b.timeout_s = [&world] { return world.timeout_s(); };
  b.broadcast = [&world](std::span<std::byte> data, std::string_view what) {
    world.broadcast_bytes(data, 0, what);
  };
  b.allgather = [&world](std::span<const std::byte> mine, std::string_view what) {
    return world.allgather_bytes(mine, what);
  };
  return b;
}

NcclBootstrap NcclBootstrap::single_process(double timeout_s) {
  NcclBootstrap b;
  b.rank = 0;
  b.size = 1;
  b.tag = "[rank 0/single process]";
  b.timeout_s = [timeout_s] { return timeout_s; };
  b.broadcast = [](std::span<std::byte>, std::string_view) {};
  b.allgather = [](std::span<const std::byte> mine, std::string_view) {
    return std::vector<std::byte>(mine.begin(), mine.end());
  };
  return b;
}

// ---------------------------------------------------------------------------------------------
// Communicator

NcclComm::NcclComm(const NcclBootstrap& boot)
    : rank_(boot.rank), size_(boot.size), tag_(boot.tag), timeout_s_(boot.timeout_s) {
  DCP_CUDA_CHECK(cudaGetDevice(&device_));
  ncclUniqueId id{};
  if (rank_ == 0) DCP_NCCL_CHECK(ncclGetUniqueId(&id));
  boot.broadcast(std::as_writable_bytes(std::span(&id, 1)), "NCCL unique id");

  ncclConfig_t config = NCCL_CONFIG_INITIALIZER;
  config.blocking = 0;
  const ncclResult_t r = ncclCommInitRankConfig(&comm_, size_, id, rank_, &config);
  try {
    settle(r, "ncclCommInitRankConfig", __FILE__, __LINE__);
  } catch (...) {
    abort();
    throw;
  }
}

NcclComm::~NcclComm() {
  if (!comm_) return;
  try {
    settle(ncclCommFinalize(comm_), "ncclCommFinalize", __FILE__, __LINE__);
    const ncclResult_t r = ncclCommDestroy(comm_);
    if (r != ncclSuccess) {
      std::fprintf(stderr, "%s dcpbench: ncclCommDestroy failed: %s\n", tag_.c_str(),
                   result_text(r, nullptr).c_str());
    }
    comm_ = nullptr;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s dcpbench: NCCL communicator did not finalize (%s); aborting it\n",
                 tag_.c_str(), e.what());
    abort();
  }
}

double NcclComm::timeout_s() const {
  return timeout_s_ ? timeout_s_() : kDefaultTimeoutS;
}

void NcclComm::complete(ncclResult_t result, const char* expr, const char* file, int line) const {
  if (result == ncclSuccess) return;
  if (result != ncclInProgress) throw_nccl_error(result, expr, file, line, comm_);
  wait_ready(expr);
}

void NcclComm::settle(ncclResult_t result, const char* expr, const char* file, int line) const {
  if (result != ncclSuccess && result != ncclInProgress) {
    throw_nccl_error(result, expr, file, line, comm_);
  }
  // Also after ncclSuccess: NCCL 2.28.9's ncclDevCommCreate (and window registration, device
  // communicator destruction) return ncclSuccess on a non-blocking communicator while their work
  // still runs in the background; the next call then fails with "Attempt to use communicator
  // before the previous operation returned ncclSuccess", and outputs are not written yet.
  wait_ready(expr);
}

void NcclComm::wait_ready(std::string_view what) const {
  if (!comm_) throw NcclError(fmt::format("{} NCCL communicator was aborted ({})", tag_, what));
  const double limit_s = timeout_s();
  const auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                            std::chrono::duration<double>(limit_s));
  auto pause = std::chrono::microseconds(0);
  for (;;) {
    ncclResult_t state = ncclSuccess;
    const ncclResult_t r = ncclCommGetAsyncError(comm_, &state);
    if (r != ncclSuccess) throw_nccl_error(r, "ncclCommGetAsyncError", __FILE__, __LINE__, comm_);
    if (state == ncclSuccess) return;
    if (state != ncclInProgress) {
      throw NcclError(
          fmt::format("{} NCCL error during {}: {}", tag_, what, result_text(state, comm_)));
    }
    if (std::chrono::steady_clock::now() > deadline) {
      throw TimeoutError(fmt::format(
          "{} NCCL {} did not complete within {} s: at least one other rank never joined it (it "
          "failed, hangs, or runs a different sweep)",
          tag_, what, limit_s));
    }
    if (pause.count() == 0) {
      std::this_thread::yield();
      pause = std::chrono::microseconds(1);
    } else {
      std::this_thread::sleep_for(pause);
      pause = std::min(pause * 2, std::chrono::microseconds(1000));
    }
  }
}

void NcclComm::check_async(std::string_view what) const {
  if (!comm_) throw NcclError(fmt::format("{} NCCL communicator was aborted ({})", tag_, what));
  ncclResult_t state = ncclSuccess;
  const ncclResult_t r = ncclCommGetAsyncError(comm_, &state);
  if (r != ncclSuccess) throw_nccl_error(r, "ncclCommGetAsyncError", __FILE__, __LINE__, comm_);
  if (state != ncclSuccess && state != ncclInProgress) {
    throw NcclError(
        fmt::format("{} NCCL asynchronous error ({}): {}", tag_, what, result_text(state, comm_)));
  }
}

void NcclComm::abort() noexcept {
  if (!comm_) return;
  const ncclResult_t r = ncclCommAbort(comm_);
  if (r != ncclSuccess && r != ncclInProgress) {
    std::fprintf(stderr, "%s dcpbench: ncclCommAbort failed: %s\n", tag_.c_str(),
                 result_text(r, nullptr).c_str());
  }
  comm_ = nullptr;
}

void NcclComm::alltoall(const void* send, void* recv, std::size_t count, ncclDataType_t type,
                        cudaStream_t stream) const {
  const AlltoAllFn fn = entry_points().alltoall;
  if (!fn) throw EnvironmentError(missing("ncclAlltoAll"));
  DCP_NCCL_COMM_CHECK(*this, fn(send, recv, count, type, comm_, stream));
}

NcclWindow NcclComm::register_window(void* base, std::size_t bytes) const {
  if (auto reason = window_api_unsupported_reason()) throw EnvironmentError(*reason);
  NcclWindow window = nullptr;
  settle(entry_points().window_register(comm_, base, bytes, &window, kWinCollSymmetric),
         "ncclCommWindowRegister", __FILE__, __LINE__);
  return window;
}

void NcclComm::deregister_window(NcclWindow window) const {
  if (auto reason = window_api_unsupported_reason()) throw EnvironmentError(*reason);
  settle(entry_points().window_deregister(comm_, window), "ncclCommWindowDeregister", __FILE__,
         __LINE__);
}

void NcclComm::create_dev_comm(int lsa_barriers, ncclDevComm* out) const {
  if (auto reason = device_api_unsupported_reason()) throw EnvironmentError(*reason);
#if DCP_NCCL_HEADERS_HAVE_DEVICE_API
    // Zero-initialised requirements: only LSA barriers, no multimem, no GIN (2.28's struct has no
    // size/magic header; later headers provide NCCL_DEV_COMM_REQUIREMENTS_INITIALIZER).
#ifdef NCCL_DEV_COMM_REQUIREMENTS_INITIALIZER
  ncclDevCommRequirements reqs = NCCL_DEV_COMM_REQUIREMENTS_INITIALIZER;
#else
  ncclDevCommRequirements reqs{};
#endif
  reqs.lsaBarrierCount = lsa_barriers;
  settle(entry_points().dev_comm_create(comm_, &reqs, out), "ncclDevCommCreate", __FILE__,
         __LINE__);
#else
  (void)lsa_barriers;
  (void)out;
#endif
}

void NcclComm::destroy_dev_comm(const ncclDevComm* dev_comm) const {
#if DCP_NCCL_HEADERS_HAVE_DEVICE_API
  if (!entry_points().dev_comm_destroy) throw EnvironmentError(missing("ncclDevCommDestroy"));
  settle(entry_points().dev_comm_destroy(comm_, dev_comm), "ncclDevCommDestroy", __FILE__,
         __LINE__);
#else
  (void)dev_comm;
#endif
}

void* nccl_mem_alloc(std::size_t bytes) {
  if (auto reason = window_api_unsupported_reason()) throw EnvironmentError(*reason);
  void* ptr = nullptr;
  DCP_NCCL_CHECK(entry_points().mem_alloc(&ptr, bytes));
  return ptr;
}

void nccl_mem_free(void* ptr) noexcept {
  const MemFreeFn fn = entry_points().mem_free;
  if (!ptr || !fn) return;
  const ncclResult_t r = fn(ptr);
  if (r != ncclSuccess) {
    std::fprintf(stderr, "dcpbench: ncclMemFree failed: %s\n", result_text(r, nullptr).c_str());
  }
}

}  // namespace dcp::baseline
