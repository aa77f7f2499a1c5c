#pragma once
/// @file
/// The bounded store/load probe of the `store_load` group (host launcher; the kernel stays in
/// store_load_probe.cu). One single-thread kernel per side of an ordered pair:
///  - initiator: stores `token` into word 0 of its line in the peer's segment, loads it back
///    through the mapping, then waits in its own memory for the peer's answer (token + 1 in
///    word 1 of the peer's line there);
///  - responder: waits in its own memory for `token`, stores token + 1 into word 1 of its line
///    in the initiator's segment and loads it back.
/// Both give up `timeout_s` after they start (%globaltimer) and report the step. No fmt here.

#include <cuda_runtime_api.h>

#include <cstdint>

#include "core/cuda_raii.hpp"

namespace dcp::diag {

/// What one side saw.
struct StoreLoadOutcome {
  bool timed_out = false;
  int step = 0;               ///< StoreLoadStep (groups/store_load.hpp) where it gave up
  bool load_checked = false;  ///< the side stored and loaded back through the mapping
  std::uint64_t expected = 0;
  std::uint64_t loaded = 0;
  double seconds = 0;  ///< the kernel's run time (%globaltimer)
};

class StoreLoadProbe {
 public:
  StoreLoadProbe();

  /// `remote_line`: this side's 128-byte line in the peer's segment (through the mapping);
  /// `local_line`: the peer's line in this rank's own segment.
  void launch(bool initiator, std::uint64_t* remote_line, const std::uint64_t* local_line,
              std::uint64_t token, double timeout_s, cudaStream_t stream);
  /// Reads the outcome; the stream must have completed (wait_bounded).
  [[nodiscard]] StoreLoadOutcome collect() const;

 private:
  DeviceMemory result_;
};

}  // namespace dcp::diag
