#pragma once
/// @file
/// GPU selection (one GPU per local rank) and what a rank reports about its GPU.

#include <string>

#include "core/rank_info.hpp"

namespace dcp {

class World;

/// Picks and makes current the GPU of `local_rank` among `local_size` ranks on this host:
/// device `local_rank` of the visible devices (CUDA_VISIBLE_DEVICES is respected by CUDA).
/// Throws EnvironmentError for no GPU at all, or when the host has fewer visible GPUs than
/// ranks (two ranks would share a GPU). Returns the device ordinal.
int select_device_for_local_rank(int local_rank, int local_size);

/// Fills the GPU part of a RankInfo for `device` (name, UUID, PCI id, SMs, compute capability,
/// driver and runtime versions). NCCL and rank fields are left to the caller.
RankInfo describe_device(int device);

/// This process's RankInfo in `world`: describe_device(device) plus the rank, local rank and
/// host from `world` and the loaded NCCL version (`nccl_version`, empty when unknown).
RankInfo describe_rank(const World& world, int device, std::string nccl_version);

/// "13.0" from CUDA's integer version 13000.
std::string cuda_version_string(int v);

}  // namespace dcp
