#pragma once
/// @file
/// The small shared context every check group of `dcpbench diag` runs in (full builds): the
/// world, this rank's device, the plan and its probe sizes, every rank's RankFacts (gathered
/// once), the mapping the probes run through, the peer-path table and NVML (each built once, on
/// first use), and the cross-rank gather of facts. Groups never talk to each other except
/// through it.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/error.hpp"
#include "core/world.hpp"
#include "diag/plan.hpp"
#include "diag/probe_mapping.hpp"
#include "diag/rank_facts.hpp"
#include "fabric/peer_path.hpp"

namespace dcp::fabric {
class Nvml;
}

namespace dcp::diag {

/// This rank's GPU after select_diag_device (checks.hpp).
struct DiagDevice {
  int device = -1;          ///< CUDA ordinal; -1 when CUDA did not start
  bool cuda_ready = false;  ///< CUDA started (device set, context created)
  int cuda_error = 0;       ///< the cudaError_t that stopped it
  std::string cuda_error_name;
  std::string cuda_error_text;
};

/// Runs `f`, returning its dcp::Error text ("" on success). A TimeoutError propagates: it means a
/// GPU or a collective is stuck, and diag cannot go on.
template <typename F>
std::string capture_error(F&& f) {
  try {
    f();
    return {};
  } catch (const TimeoutError&) {
    throw;
  } catch (const Error& e) {
    return e.what();
  }
}

class Context {
 public:
  /// Gathers every rank's RankFacts (collective).
  Context(const DiagPlan& plan, World& world, const DiagDevice& device, const DiagEnvironment& env);
  ~Context();
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;

  [[nodiscard]] const DiagPlan& plan() const { return plan_; }
  /// What the CLI gave diag: NCCL versions and the smoke test's implementations.
  [[nodiscard]] const DiagEnvironment& env() const { return env_; }
  [[nodiscard]] World& world() const { return world_; }
  [[nodiscard]] int device() const { return device_.device; }
  [[nodiscard]] const ProbeSizes& sizes() const { return sizes_; }
  [[nodiscard]] const std::vector<RankFacts>& ranks() const { return ranks_; }
  [[nodiscard]] const RankFacts& rank(int r) const {
    return ranks_.at(static_cast<std::size_t>(r));
  }
  [[nodiscard]] int me() const { return world_.rank(); }
  [[nodiscard]] int size() const { return world_.size(); }
  /// CUDA started on every rank.
  [[nodiscard]] bool cuda_ready_everywhere() const;
  /// Every rank on one host.
  [[nodiscard]] bool single_host() const;
  [[nodiscard]] double timeout_s() const { return plan_.timeout_s; }
  /// How long a host wait on this rank's GPU may take: the device-side deadline plus a margin.
  [[nodiscard]] double host_wait_s() const;

  /// Every rank's facts, in rank order (JSON text through encode/decode of the facts type).
  template <typename T>
  std::vector<T> gather(const T& mine, std::string_view what) const {
    std::vector<T> out;
    for (const auto& text : world_.allgather_strings(encode(mine), what)) {
      T v{};
      decode(text, v);
      out.push_back(std::move(v));
    }
    return out;
  }
  /// Every rank's list of facts, concatenated in rank order.
  template <typename T>
  std::vector<T> gather_flat(const std::vector<T>& mine, std::string_view what) const {
    std::vector<T> out;
    for (auto& part : gather(mine, what))
      out.insert(out.end(), part.begin(), part.end());
    return out;
  }

  /// The mapping the probes run through.
  [[nodiscard]] ProbeMapping& mapping() { return mapping_; }
  /// NVML of this process, loaded on first use (never throws; may be unavailable).
  const fabric::Nvml& nvml();
  /// The peer-path table (fabric::gather_peer_paths), built on first use. Collective then.
  const fabric::PeerPathTable& paths();
  /// A new epoch for a probe run (every rank calls it at the same points, so all agree).
  std::uint32_t next_epoch() { return ++epoch_; }

  /// Raises the world's collective timeout to at least `seconds` while alive (a long probe on
  /// one pair keeps the other ranks waiting at the next barrier).
  class LongWait {
   public:
    LongWait(World& world, double seconds);
    ~LongWait();
    LongWait(const LongWait&) = delete;
    LongWait& operator=(const LongWait&) = delete;

   private:
    World& world_;
    double saved_;
  };

 private:
  RankFacts this_rank(const DiagEnvironment& env);

  const DiagPlan& plan_;
  const DiagEnvironment& env_;
  World& world_;
  DiagDevice device_;
  ProbeSizes sizes_;
  std::vector<RankFacts> ranks_;
  ProbeMapping mapping_;
  std::unique_ptr<fabric::Nvml> nvml_;
  std::optional<fabric::PeerPathTable> paths_;
  std::uint32_t epoch_ = 0;
};

}  // namespace dcp::diag
