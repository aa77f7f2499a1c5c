#pragma once
/// @file
/// Helpers shared by the libFuzzer targets in tests/fuzz/: the failure hook of the oracles and
/// the sweep-spec round trip that the config and flag targets both check.

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <string_view>

#include "core/sweep.hpp"
#include "metadata_catalog.hpp"
#include "report/spec_json.hpp"

namespace dcp::fuzz {

/// An oracle failed: print what and abort, which libFuzzer records as a crash (with the input).
[[noreturn]] inline void fail(std::string_view what, std::string_view detail = {}) {
  std::fprintf(stderr, "\n== dcp fuzz oracle failed: %.*s\n%.*s\n", static_cast<int>(what.size()),
               what.data(), static_cast<int>(detail.size()), detail.data());
  std::abort();
}

/// `spec` with an empty impl axis spelled out (the metadata catalog's default set), so that a
/// spec naming the defaults and one leaving them out compare equal.
inline SweepSpec normalised(SweepSpec spec) {
  spec.axes.impl = effective_impls(spec.axes, testing::metadata_catalog());
  return spec;
}

/// Oracles for a spec that parsed: it validates again, and spec_to_json -> text -> spec_from_json
/// (on a default base, as the report reader does) gives the same spec back.
inline void check_spec_round_trip(const SweepSpec& spec) {
  try {
    validate(spec);
  } catch (const std::exception& e) {
    fail("an accepted spec does not validate", e.what());
  }
  const std::string text = report::spec_to_json(spec).dump();
  SweepSpec back;
  try {
    back = report::spec_from_json(report::parse_json_text(text, "round trip"), SweepSpec{},
                                  "round trip");
  } catch (const std::exception& e) {
    fail("spec_to_json output does not parse back", std::string(e.what()) + "\n" + text);
  }
  if (!(normalised(back) == normalised(spec))) {
    fail("spec round trip changed the spec", text + "\n" + report::spec_to_json(back).dump());
  }
}

}  // namespace dcp::fuzz
