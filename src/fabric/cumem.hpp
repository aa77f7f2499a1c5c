#pragma once
/// @file
/// Move-only RAII owners over the CUDA virtual memory management (cuMem*) calls that the
/// cross-process workspaces are built from: a physical allocation (created here or imported
/// from a peer), a reserved virtual address range, and a mapping of one into the other.
///
/// Constructors throw DriverError (a CudaError naming the call and CUDA's error name);
/// destructors never throw (they report on stderr and carry on). Declare owners in the order
/// range, allocations, mappings, so that destruction unmaps first, then releases, then frees
/// the range. None of them synchronises the device: the owner must have finished every kernel
/// that uses the memory before destroying it.

#include <cuda.h>

#include <cstddef>
#include <string_view>
#include <utility>

#include "fabric/unique_fd.hpp"

namespace dcp::fabric {

/// How an allocation can be shared with other processes.
enum class HandleType {
  kPosixFd,  ///< CU_MEM_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR: an fd, passed over a Unix socket
  kFabric,   ///< CU_MEM_HANDLE_TYPE_FABRIC: 64 opaque bytes, sent over MPI (needs IMEX)
};

[[nodiscard]] CUmemAllocationHandleType to_cu(HandleType t);
/// "POSIX fd" / "fabric".
[[nodiscard]] std::string_view to_string(HandleType t);

/// Properties for pinned device memory on `device`, exportable as `type`.
[[nodiscard]] CUmemAllocationProp device_allocation_prop(CUdevice device, HandleType type);

/// cuMemGetAllocationGranularity for such an allocation, in bytes (RECOMMENDED by default; the
/// minimum is what cuMemCreate/cuMemMap require, the recommended one is what performs best).
[[nodiscard]] std::size_t allocation_granularity(
    CUdevice device, HandleType type,
    CUmemAllocationGranularity_flags which = CU_MEM_ALLOC_GRANULARITY_RECOMMENDED);

/// A physical allocation handle (CUmemGenericAllocationHandle), released on destruction.
class Allocation {
 public:
  Allocation() = default;
  Allocation(Allocation&& o) noexcept
      : handle_(std::exchange(o.handle_, 0)), bytes_(std::exchange(o.bytes_, 0)) {}
  Allocation& operator=(Allocation&& o) noexcept {
    if (this != &o) {
      reset();
      handle_ = std::exchange(o.handle_, 0);
      bytes_ = std::exchange(o.bytes_, 0);
    }
    return *this;
  }
  Allocation(const Allocation&) = delete;
  Allocation& operator=(const Allocation&) = delete;
  ~Allocation() { reset(); }

  /// cuMemCreate of `bytes` (a multiple of the granularity) on `device`, exportable as `type`.
  [[nodiscard]] static Allocation create(std::size_t bytes, CUdevice device, HandleType type);
  /// cuMemImportFromShareableHandle of a POSIX fd exported by another process. `bytes` is the
  /// size the exporter created (the driver does not report it). The fd stays owned by the caller
  /// and may be closed once this returns.
  [[nodiscard]] static Allocation import_posix_fd(int fd, std::size_t bytes);
  /// cuMemImportFromShareableHandle of a fabric handle exported by another process.
  [[nodiscard]] static Allocation import_fabric(const CUmemFabricHandle& handle, std::size_t bytes);

  /// cuMemExportToShareableHandle as a POSIX fd (the allocation must allow kPosixFd).
  [[nodiscard]] UniqueFd export_posix_fd() const;
  /// cuMemExportToShareableHandle as a fabric handle (the allocation must allow kFabric).
  [[nodiscard]] CUmemFabricHandle export_fabric() const;

  [[nodiscard]] CUmemGenericAllocationHandle get() const { return handle_; }
  [[nodiscard]] std::size_t bytes() const { return bytes_; }
  [[nodiscard]] bool valid() const { return handle_ != 0; }
  void reset() noexcept;

 private:
  Allocation(CUmemGenericAllocationHandle h, std::size_t bytes) : handle_(h), bytes_(bytes) {}
  CUmemGenericAllocationHandle handle_ = 0;
  std::size_t bytes_ = 0;
};

/// A reserved virtual address range (cuMemAddressReserve), freed on destruction.
class VaRange {
 public:
  VaRange() = default;
  /// Reserves `bytes` (a multiple of the granularity) aligned to `alignment` bytes.
  VaRange(std::size_t bytes, std::size_t alignment);
  VaRange(VaRange&& o) noexcept
      : base_(std::exchange(o.base_, 0)), bytes_(std::exchange(o.bytes_, 0)) {}
  VaRange& operator=(VaRange&& o) noexcept {
    if (this != &o) {
      reset();
      base_ = std::exchange(o.base_, 0);
      bytes_ = std::exchange(o.bytes_, 0);
    }
    return *this;
  }
  VaRange(const VaRange&) = delete;
  VaRange& operator=(const VaRange&) = delete;
  ~VaRange() { reset(); }

  [[nodiscard]] CUdeviceptr base() const { return base_; }
  [[nodiscard]] std::size_t bytes() const { return bytes_; }
  void reset() noexcept;

 private:
  CUdeviceptr base_ = 0;
  std::size_t bytes_ = 0;
};

/// `allocation` mapped at `address` (inside a VaRange), unmapped on destruction. The mapping
/// keeps the physical memory alive even after the Allocation handle is released.
class Mapping {
 public:
  Mapping() = default;
  /// cuMemMap of the whole allocation at `address`.
  Mapping(CUdeviceptr address, const Allocation& allocation);
  Mapping(Mapping&& o) noexcept
      : address_(std::exchange(o.address_, 0)), bytes_(std::exchange(o.bytes_, 0)) {}
  Mapping& operator=(Mapping&& o) noexcept {
    if (this != &o) {
      reset();
      address_ = std::exchange(o.address_, 0);
      bytes_ = std::exchange(o.bytes_, 0);
    }
    return *this;
  }
  Mapping(const Mapping&) = delete;
  Mapping& operator=(const Mapping&) = delete;
  ~Mapping() { reset(); }

  /// cuMemSetAccess: read-write access from `device` to the whole mapping.
  void allow_access(CUdevice device) const;

  [[nodiscard]] CUdeviceptr address() const { return address_; }
  [[nodiscard]] void* ptr() const { return reinterpret_cast<void*>(address_); }
  [[nodiscard]] std::size_t bytes() const { return bytes_; }
  void reset() noexcept;

 private:
  CUdeviceptr address_ = 0;
  std::size_t bytes_ = 0;
};

}  // namespace dcp::fabric
