#pragma once
/// @file
/// The GPU half of the `ll128_order` probe (host launchers; the kernels stay in ll128_probe.cu;
/// the line format and the classification in ll128_line.hpp). No fmt here.
///
/// Writer: one warp stores lines 0..lines-1 (4 per warp store instruction, 8 lanes x 16 B per
/// line) into a ring of `ring_lines` lines, waiting for credit so it never overwrites a slot the
/// reader has not finished. Reader: one warp polls the ring in its own GPU's memory; for every
/// line it classifies the load that first shows the line's flag (single read) and a reload
/// issued after the flag matched (read after flag), and every `credit_every` lines stores the
/// count of finished lines into the writer's credit word (through the mapping). Both kernels
/// give up after `timeout_s` without progress (%globaltimer) and report the line.

#include <cuda_runtime_api.h>

#include <cstdint>

#include "core/cuda_raii.hpp"
#include "diag/ll128_line.hpp"

namespace dcp::diag {

struct Ll128ProbeParams {
  std::uint64_t lines = 0;         ///< a multiple of 4
  std::uint32_t ring_lines = 0;    ///< a multiple of 4 and of credit_every
  std::uint32_t credit_every = 0;  ///< lines between two credit stores; a multiple of 4
  std::uint32_t epoch = 0;         ///< distinct for every run that reuses the ring
  ll128probe::FlagLayout layout = ll128probe::FlagLayout::kFlagLast;
  std::uint64_t inject_every = 0;  ///< self-test only: tear every n-th line on purpose
  double timeout_s = 10;           ///< without progress
};

/// What the reader counted.
struct Ll128ReaderOutcome {
  std::uint64_t lines = 0;
  std::uint64_t torn_single = 0;
  std::uint64_t torn_after_flag = 0;
  std::int64_t first_torn_line = -1;
  bool timed_out = false;
  std::uint64_t stalled_at_line = 0;
  double seconds = 0;
};

/// What the writer saw.
struct Ll128WriterOutcome {
  std::uint64_t lines = 0;  ///< lines stored
  bool timed_out = false;
  std::uint64_t stalled_at_line = 0;
  double seconds = 0;
};

/// The credit word: (epoch & 0xFFFFFF) << 40 | finished lines (a word of another run never
/// grants credit).
DCP_HOST_DEVICE constexpr std::uint64_t ll128_credit(std::uint32_t epoch, std::uint64_t lines) {
  return ll128probe::flag_value(epoch, lines);
}

/// Checks the parameters (host); throws dcp::Error naming the bad one.
void validate_ll128_params(const Ll128ProbeParams& p);

class Ll128Probe {
 public:
  Ll128Probe();

  /// Writer warp: `ring` is the reader's ring (peer memory through the mapping, or local in the
  /// self-test), `credit` this rank's own credit word.
  void launch_writer(void* ring, const std::uint64_t* credit, const Ll128ProbeParams& p,
                     cudaStream_t stream);
  /// Reader warp: `ring` in this GPU's memory, `credit` the writer's credit word (through the
  /// mapping, or local in the self-test).
  void launch_reader(const void* ring, std::uint64_t* credit, const Ll128ProbeParams& p,
                     cudaStream_t stream);
  /// Outcomes; the streams must have completed (wait_bounded).
  [[nodiscard]] Ll128WriterOutcome writer_outcome() const;
  [[nodiscard]] Ll128ReaderOutcome reader_outcome() const;

 private:
  DeviceMemory writer_result_;
  DeviceMemory reader_result_;
};

}  // namespace dcp::diag
