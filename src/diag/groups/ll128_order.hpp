#pragma once
/// @file
/// Check group `ll128_order`: does the path between two GPUs keep the property LL128 rests on
/// (dcp-a2a-spec.md §3.8)? On every ordered pair, a writer warp on one GPU stores N lines (10^7
/// by default, `--ll128-lines`) into a ring in the peer GPU's memory, once with the flag in the
/// first word of every line and once in the last; a reader warp on the peer GPU polls its local
/// memory and classifies every line twice: from the load that first saw the flag ("single
/// read") and from a load issued after the flag matched ("read after flag"). Four counts of torn
/// lines per pair (diag/ll128_line.hpp says what a tear is). Flow control (a credit counter in
/// the writer's memory) keeps the writer from overwriting a slot the reader has not finished, so
/// every tear counted is a real ordering failure, never a lapped ring.
///
/// Rule (per ordered pair writer -> reader): PASS when the shipped variant (flag last, read
/// after flag) tore 0 lines; FAIL when it tore any, when a side timed out (no progress for
/// --timeout: names the side, layout and line), or the probe failed; the other three counts are
/// facts in the value (what the fabric does). SKIP on a single rank, for ranks sharing a GPU,
/// or without a cross-GPU mapping. One GPU cannot show ordering failures (one L2): the same-GPU
/// self-test (tests/gpu/diag_ll128_test.cpp) checks the counting only. Run:
/// groups/ll128_order_run.cpp.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/diag_result.hpp"
#include "diag/group_info.hpp"
#include "diag/ll128_line.hpp"
#include "diag/rank_facts.hpp"

namespace dcp::diag {

inline constexpr CheckGroupInfo kLl128OrderGroup{
    "ll128_order",
    "LL128 ordering probe: a writer warp stores lines into the peer GPU (flag first / flag last), "
    "the reader counts torn lines (single read / read after flag); --ll128-lines",
    true};

/// Tear counts of one layout on one ordered pair.
struct Ll128LayoutCounts {
  std::uint64_t lines = 0;            ///< lines the reader classified
  std::uint64_t torn_single = 0;      ///< torn in the load that first saw the flag
  std::uint64_t torn_after_flag = 0;  ///< torn in the load issued after the flag matched
  std::int64_t first_torn_line = -1;  ///< first line torn in either read, -1 when none
  bool timed_out = false;             ///< a side saw no progress for the timeout
  std::string stalled_side;           ///< "writer" (waiting for credit) / "reader" (for a flag)
  std::uint64_t stalled_at_line = 0;

  /// One classified line: what the first flag-matching load and the reload showed.
  void add(std::uint64_t line, ll128probe::LineState first, ll128probe::LineState reload);

  friend bool operator==(const Ll128LayoutCounts&, const Ll128LayoutCounts&) = default;
};

/// The probe of one ordered pair.
struct Ll128OrderFacts {
  int writer = 0;
  int reader = 0;
  bool ran = false;
  std::string skip_reason;
  std::string error;
  std::uint32_t ring_lines = 0;
  Ll128LayoutCounts flag_first;
  Ll128LayoutCounts flag_last;
  double seconds = 0;  ///< both layouts, reader side

  friend bool operator==(const Ll128OrderFacts&, const Ll128OrderFacts&) = default;
};

std::string encode(const std::vector<Ll128OrderFacts>& f);
void decode(std::string_view text, std::vector<Ll128OrderFacts>& out);

/// One record per ordered pair, sorted by (writer, reader): the reader's counts with the
/// writer's stall or error folded in.
std::vector<Ll128OrderFacts> merge_ll128_order(const std::vector<Ll128OrderFacts>& facts);

/// One "ll128_order" row per ordered pair (sorted by writer, reader); one SKIP on a single rank.
std::vector<DiagCheck> ll128_order_checks(const std::vector<RankFacts>& ranks,
                                          const std::vector<Ll128OrderFacts>& facts);

}  // namespace dcp::diag
