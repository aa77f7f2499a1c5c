/// @file
/// libFuzzer target: sweep config files and compare's thresholds files.
///
/// Input: the bytes of a file, used both as a sweep config (`--config FILE`, configs/*.json) and
/// as a thresholds file (`compare --thresholds FILE`, configs/thresholds.json).
///   config      report::parse_json_text -> report::spec_from_json on the built-in default
///               (exactly cli::load_config) and on SweepSpec{} (as the report reader does)
///   thresholds  report::parse_json (the one JSON reader) -> report::thresholds_from_json
///
/// Expected on any input: a result or a dcp::ConfigError (report::ReportError is one); any other
/// exception, a crash, a sanitizer report, a hang or unbounded memory is a bug. Oracles on
/// accepted input:
///   - the spec validates again, and spec_to_json -> text -> spec_from_json gives it back
///     (an empty impl axis, the default set, is left out of the text and read back empty);
///   - the thresholds lie in the documented ranges and print again (thresholds_to_json).
///
/// Seeds: configs/*.json (copied into <build>/fuzz/seeds/config_json at configure time).
/// Dictionary: tests/fuzz/config_json.dict. Build and run: docs/RELIABILITY.md#fuzzing, e.g.
///   build-fuzz/bin/fuzz/fuzz_config_json -dict=tests/fuzz/config_json.dict \
///     -max_total_time=60 build-fuzz/fuzz/corpus/config_json build-fuzz/fuzz/seeds/config_json

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "cli/config_file.hpp"
#include "core/error.hpp"
#include "fuzz_support.hpp"
#include "report/compare.hpp"
#include "report/json_read.hpp"
#include "report/report_error.hpp"
#include "report/spec_json.hpp"

namespace {

void check_config(std::string_view text) {
  nlohmann::json j;
  try {
    j = dcp::report::parse_json_text(text, "fuzz.json");
  } catch (const dcp::ConfigError&) {
    return;
  }
  static const dcp::SweepSpec kDefault = dcp::cli::default_spec();
  for (const dcp::SweepSpec* base : {&kDefault, static_cast<const dcp::SweepSpec*>(nullptr)}) {
    dcp::SweepSpec spec;
    try {
      spec = dcp::report::spec_from_json(j, base ? *base : dcp::SweepSpec{}, "fuzz.json");
    } catch (const dcp::ConfigError&) {
      continue;
    }
    dcp::fuzz::check_spec_round_trip(spec);
  }
}

void check_thresholds(std::string_view text) {
  dcp::report::Thresholds t;
  try {
    t = dcp::report::thresholds_from_json(
        dcp::report::parse_json(text, dcp::report::JsonSource{"thresholds", "fuzz.json"}),
        "fuzz.json");
  } catch (const dcp::ConfigError&) {
    return;
  }
  const bool in_range = t.p50_rel > 0 && t.p50_rel <= 10 && t.p95_rel > 0 && t.p95_rel <= 10 &&
                        t.bus_bw_rel > 0 && t.bus_bw_rel <= 10 && t.min_abs_delta_s >= 0 &&
                        t.min_abs_delta_s <= 1;
  const std::string printed = dcp::report::thresholds_to_json(t).dump();
  if (!in_range) dcp::fuzz::fail("accepted thresholds out of range", printed);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  check_config(text);
  check_thresholds(text);
  return 0;
}
