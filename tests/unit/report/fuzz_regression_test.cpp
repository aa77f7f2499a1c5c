// Regression tests for bugs the fuzz targets (tests/fuzz/, docs/RELIABILITY.md#fuzzing) found in
// the report layer's readers. Each test names the target and the input class that crashed; the
// minimised inputs also live in tests/fuzz/regressions/ and are replayed by the fuzz build.
#include <gtest/gtest.h>

#include <string>

#include "core/error.hpp"
#include "report/spec_json.hpp"

namespace dcp::report {
namespace {

SweepSpec parse_config(const std::string& text) {
  return spec_from_json(parse_json_text(text, "fuzz.json"), SweepSpec{}, "fuzz.json");
}

/// The config reader's contract: bad input is a ConfigError (exit 2) naming `needle`.
void expect_config_error(const std::string& text, const std::string& needle) {
  try {
    (void)parse_config(text);
    FAIL() << "expected a ConfigError for " << text;
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
}

// fuzz_config_json: a number beyond double's range made nlohmann throw out_of_range.406, which
// parse_json_text let through: `--config` then failed as a runtime error (exit 3), not exit 2.
TEST(FuzzRegression, ConfigNumberOverflowIsAConfigError) {
  expect_config_error(R"({"batch": [1, -1e30016]})", "not valid JSON");
  expect_config_error(R"({"timeout_s": 1e400})", "not valid JSON");
  expect_config_error("1e999", "fuzz.json");
}

}  // namespace
}  // namespace dcp::report
