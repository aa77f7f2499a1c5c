#include "fabric/cumem.hpp"

#include <cstdint>

#include "fabric/driver_api.hpp"

namespace dcp::fabric {

CUmemAllocationHandleType to_cu(HandleType t) {
  return t == HandleType::kFabric ? CU_MEM_HANDLE_TYPE_FABRIC
                                  : CU_MEM_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR;
}

std::string_view to_string(HandleType t) {
  return t == HandleType::kFabric ? "fabric" : "POSIX fd";
}

CUmemAllocationProp device_allocation_prop(CUdevice device, HandleType type) {
  CUmemAllocationProp prop{};
  prop.type = CU_MEM_ALLOCATION_TYPE_PINNED;
  prop.requestedHandleTypes = to_cu(type);
  prop.location.type = CU_MEM_LOCATION_TYPE_DEVICE;
  prop.location.id = device;
  return prop;
}

std::size_t allocation_granularity(CUdevice device, HandleType type,
                                   CUmemAllocationGranularity_flags which) {
  const DriverApi& cu = driver_api();
  const CUmemAllocationProp prop = device_allocation_prop(device, type);
  std::size_t granularity = 0;
  DCP_CU_CHECK(cu.cuMemGetAllocationGranularity(&granularity, &prop, which));
  return granularity;
}

Allocation Allocation::create(std::size_t bytes, CUdevice device, HandleType type) {
  const DriverApi& cu = driver_api();
  const CUmemAllocationProp prop = device_allocation_prop(device, type);
  CUmemGenericAllocationHandle handle = 0;
  DCP_CU_CHECK(cu.cuMemCreate(&handle, bytes, &prop, 0));
  return Allocation(handle, bytes);
}

Allocation Allocation::import_posix_fd(int fd, std::size_t bytes) {
  const DriverApi& cu = driver_api();
  CUmemGenericAllocationHandle handle = 0;
  // The POSIX-fd handle type passes the descriptor itself in the pointer argument.
  void* os_handle = reinterpret_cast<void*>(static_cast<std::intptr_t>(fd));
  DCP_CU_CHECK(cu.cuMemImportFromShareableHandle(&handle, os_handle,
                                                 CU_MEM_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR));
  return Allocation(handle, bytes);
}

Allocation Allocation::import_fabric(const CUmemFabricHandle& fabric_handle, std::size_t bytes) {
  const DriverApi& cu = driver_api();
  CUmemGenericAllocationHandle handle = 0;
  CUmemFabricHandle copy = fabric_handle;  // the driver takes a non-const pointer
  DCP_CU_CHECK(cu.cuMemImportFromShareableHandle(&handle, &copy, CU_MEM_HANDLE_TYPE_FABRIC));
  return Allocation(handle, bytes);
}

UniqueFd Allocation::export_posix_fd() const {
  const DriverApi& cu = driver_api();
  int fd = -1;
  DCP_CU_CHECK(
      cu.cuMemExportToShareableHandle(&fd, handle_, CU_MEM_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR, 0));
  return UniqueFd(fd);
}

CUmemFabricHandle Allocation::export_fabric() const {
  const DriverApi& cu = driver_api();
  CUmemFabricHandle out{};
  DCP_CU_CHECK(cu.cuMemExportToShareableHandle(&out, handle_, CU_MEM_HANDLE_TYPE_FABRIC, 0));
  return out;
}

void Allocation::reset() noexcept {
  if (handle_ != 0) DCP_CU_CHECK_NOEXCEPT(driver_api().cuMemRelease(handle_));
  handle_ = 0;
  bytes_ = 0;
}

VaRange::VaRange(std::size_t bytes, std::size_t alignment) {
  const DriverApi& cu = driver_api();
  CUdeviceptr base = 0;
  DCP_CU_CHECK(cu.cuMemAddressReserve(&base, bytes, alignment, 0, 0));
  base_ = base;
  bytes_ = bytes;
}

void VaRange::reset() noexcept {
  if (base_ != 0) DCP_CU_CHECK_NOEXCEPT(driver_api().cuMemAddressFree(base_, bytes_));
  base_ = 0;
  bytes_ = 0;
}

Mapping::Mapping(CUdeviceptr address, const Allocation& allocation) {
  const DriverApi& cu = driver_api();
  DCP_CU_CHECK(cu.cuMemMap(address, allocation.bytes(), 0, allocation.get(), 0));
  address_ = address;
  bytes_ = allocation.bytes();
}

void Mapping::allow_access(CUdevice device) const {
  const DriverApi& cu = driver_api();
  CUmemAccessDesc desc{};
  desc.location.type = CU_MEM_LOCATION_TYPE_DEVICE;
  desc.location.id = device;
  desc.flags = CU_MEM_ACCESS_FLAGS_PROT_READWRITE;
  DCP_CU_CHECK(cu.cuMemSetAccess(address_, bytes_, &desc, 1));
}

void Mapping::reset() noexcept {
  if (address_ != 0) DCP_CU_CHECK_NOEXCEPT(driver_api().cuMemUnmap(address_, bytes_));
  address_ = 0;
  bytes_ = 0;
}

}  // namespace dcp::fabric
