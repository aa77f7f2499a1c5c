#pragma once
/// @file
/// Check group `store_load`: before anything is timed, a store and a load through every mapping,
/// bounded. For each ordered pair from -> to, `from` stores a token into `to`'s segment and loads
/// it back through the mapping; `to` waits for it in its own memory and answers with a store
/// into `from`'s segment, which `from` waits for. Both kernels give up at --timeout
/// (%globaltimer), so "a mapping whose peer access was never granted" ends as a FAIL naming the
/// pair and the step instead of a silent hang; a load that never returns at all stops diag
/// (exit 3) with a timeout naming the pair. Run: groups/store_load_run.cpp.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/diag_result.hpp"
#include "diag/group_info.hpp"
#include "diag/rank_facts.hpp"

namespace dcp::diag {

inline constexpr CheckGroupInfo kStoreLoadGroup{
    "store_load",
    "bounded store/load probe through every mapping before anything is timed (a FAIL naming "
    "the pair, never a silent hang)",
    true};

/// The steps of the probe, for the message of a timeout.
enum class StoreLoadStep : int {
  kNone = 0,
  kResponderWait = 1,  ///< `to` waited for `from`'s store in its own memory
  kInitiatorWait = 2,  ///< `from` waited for `to`'s answer in its own memory
};

/// One side's view of the probe of the ordered pair from -> to.
struct StoreLoadFacts {
  int from = 0;
  int to = 0;
  bool initiator = true;  ///< this record is `from`'s (else `to`'s)
  bool ran = false;
  std::string skip_reason;
  bool timed_out = false;
  int step = 0;                ///< StoreLoadStep at which the side gave up
  bool load_checked = false;   ///< the side loaded its own store back through the mapping
  std::uint64_t expected = 0;  ///< the value stored
  std::uint64_t loaded = 0;    ///< the value loaded back
  double seconds = 0;          ///< the side's kernel time (%globaltimer)
  std::string error;

  friend bool operator==(const StoreLoadFacts&, const StoreLoadFacts&) = default;
};

std::string encode(const std::vector<StoreLoadFacts>& f);
void decode(std::string_view text, std::vector<StoreLoadFacts>& out);

/// One "store_load" row per ordered pair, from both sides' records: FAIL on a timeout (naming
/// the side and step), a loaded-back value that differs, or an error; SKIP with the reason; one
/// SKIP on a single rank.
std::vector<DiagCheck> store_load_checks(const std::vector<RankFacts>& ranks,
                                         const std::vector<StoreLoadFacts>& facts);

}  // namespace dcp::diag
