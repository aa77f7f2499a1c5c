#pragma once
/// @file
/// DCP_HOST_DEVICE marks functions shared by host and device code: `__host__ __device__` under
/// nvcc, nothing for the host compiler. Headers using it stay host-compilable (and C++17, since
/// CUDA translation units are compiled as C++17).

#if defined(__CUDACC__)
#define DCP_HOST_DEVICE __host__ __device__
#define DCP_FORCEINLINE __forceinline__
#else
#define DCP_HOST_DEVICE
#define DCP_FORCEINLINE inline
#endif
