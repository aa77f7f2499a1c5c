#pragma once
/// @file
/// Bounded waits for GPU work: a stream that does not drain within the timeout raises a
/// TimeoutError instead of hanging the process.

#include <span>
#include <string_view>

#include "core/impl.hpp"

namespace dcp::bench {

/// Waits until every stream is idle, polling cudaStreamQuery. Throws TimeoutError naming `rank`
/// and `what` after `timeout_s`, CudaError when a stream reports an error.
void sync_streams(std::span<const StreamHandle> streams, double timeout_s, int rank,
                  std::string_view what);

}  // namespace dcp::bench
