#pragma once
/// @file
/// The cross-GPU mapping the probes of `dcpbench diag` run through (store_load, visibility,
/// latency, ll128_order): one small segment per rank, mapped on every rank. The ipc group builds
/// it (and adopts it here); otherwise it is built on first use (ipc on one host, fabric across
/// hosts). Collective on first use. Full builds only.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "core/world.hpp"

namespace dcp::fabric {
class Workspace;
}

namespace dcp::diag {

/// Lines of the ll128_order probe's ring in every segment (256 KiB). The reader returns credit
/// every quarter ring, so the writer runs up to 3/4 of a ring ahead.
inline constexpr std::uint32_t kLl128RingLines = 2048;

/// Offsets inside every rank's segment (the same on all ranks).
struct SegmentPlan {
  int world = 1;
  static constexpr std::size_t kFlagStride = 128;       ///< one line per flag
  static constexpr std::size_t kSignatureWords = 4096;  ///< 32-bit words per signature
  static constexpr std::size_t kSignatureBytes = kSignatureWords * 4;

  /// Latency: the flag `sender` writes into this segment.
  [[nodiscard]] std::size_t flag_offset(int sender) const;
  /// Visibility: this rank's own signature, then one slot per writer.
  [[nodiscard]] std::size_t own_signature_offset() const;
  [[nodiscard]] std::size_t slot_offset(int writer) const;
  /// store_load: the line rank `writer` stores into (word 0: the initiator's token, word 1: the
  /// responder's answer).
  [[nodiscard]] std::size_t store_load_offset(int writer) const;
  /// ll128_order: the credit line the reader writes into the writer's segment, and the ring.
  [[nodiscard]] std::size_t ll128_credit_offset() const;
  [[nodiscard]] std::size_t ll128_ring_offset() const;
  [[nodiscard]] std::size_t bytes() const;
};

class ProbeMapping {
 public:
  explicit ProbeMapping(const World& world);
  ~ProbeMapping();
  ProbeMapping(const ProbeMapping&) = delete;
  ProbeMapping& operator=(const ProbeMapping&) = delete;

  [[nodiscard]] const SegmentPlan& plan() const { return plan_; }
  /// Builds the ipc workspace now (the ipc group); returns its error text ("" on success).
  std::string make_ipc();
  /// The mapping, built on first use (ipc on one host, fabric across hosts); null when it
  /// could not be built (why_not() says why). Collective on first use.
  const fabric::Workspace* get(bool single_host);
  /// "no cross-GPU mapping to test through (...)".
  [[nodiscard]] std::string why_not() const;
  /// Address of `offset` in rank r's segment (through the mapping for r != me).
  [[nodiscard]] void* at(int r, std::size_t offset) const;
  /// Synchronises this device, passes a barrier (no peer still touches our segment) and unmaps.
  /// Collective; a no-op when nothing was built.
  void release();

 private:
  const World& world_;
  SegmentPlan plan_;
  std::unique_ptr<fabric::Workspace> ws_;
  bool tried_ = false;
  std::string error_;
};

}  // namespace dcp::diag
