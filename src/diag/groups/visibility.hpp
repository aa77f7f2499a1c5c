#pragma once
/// @file
/// Check group `visibility`: every rank reads every peer's signature through the mapped
/// workspace, and writes one into every peer's segment, checked bit-exact on the reader's GPU.
/// Run: groups/visibility_run.cpp.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/diag_result.hpp"
#include "diag/group_info.hpp"
#include "diag/rank_facts.hpp"

namespace dcp::diag {

inline constexpr CheckGroupInfo kVisibilityGroup{
    "visibility",
    "every rank reads every peer's signature through the mapping, and writes one into every "
    "peer's segment",
    true};

/// Signature exchange between `writer` and `reader`, checked by the reader.
struct VisibilityFacts {
  int writer = 0;
  int reader = 0;
  bool ran = false;
  std::string skip_reason;
  std::uint64_t words = 0;  ///< 32-bit words per signature
  /// Reader read the writer's own segment through the mapping (remote read).
  std::uint64_t read_mismatches = 0;
  std::int64_t read_first_bad = -1;
  std::uint32_t read_expected = 0, read_actual = 0;
  /// Writer wrote into the reader's segment through the mapping (remote write), reader checked.
  std::uint64_t write_mismatches = 0;
  std::int64_t write_first_bad = -1;
  std::uint32_t write_expected = 0, write_actual = 0;
  std::string error;

  friend bool operator==(const VisibilityFacts&, const VisibilityFacts&) = default;
};

std::string encode(const std::vector<VisibilityFacts>& f);
void decode(std::string_view text, std::vector<VisibilityFacts>& out);

/// One "visibility" row per ordered (writer, reader) pair, FAIL naming the pair, direction,
/// count and first bad word.
std::vector<DiagCheck> visibility_checks(const std::vector<RankFacts>& ranks,
                                         const std::vector<VisibilityFacts>& facts);

}  // namespace dcp::diag
