// Regression tests for bugs the fuzz targets (tests/fuzz/, docs/RELIABILITY.md#fuzzing) found in
// the report layer's readers. Each test names the target and the input class that crashed; the
// minimised inputs also live in tests/fuzz/regressions/ and are replayed by the fuzz build.
#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "report/json_report.hpp"
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

// fuzz_config_json: an integer field given as a float beyond int64 (1e300) was converted with
// static_cast<std::int64_t>, which is undefined behaviour (UBSan float-cast-overflow; x86 gives
// INT64_MIN, reported as "-9223372036854775808 is negative"). Values outside int64, float or
// unsigned, are refused as out of range, naming the value given.
TEST(FuzzRegression, ConfigIntegerOutsideInt64IsOutOfRange) {
  expect_config_error(R"({"batch": 1e300})", "batch: 1e+300 is out of range");
  expect_config_error(R"({"batch": [1, -1e300]})", "batch: -1e+300 is out of range");
  expect_config_error(R"({"stress": 9.3e18})", "stress: 9.3e+18 is out of range");
  expect_config_error(R"({"warmup": -9.3e18})", "warmup: -9.3e+18 is out of range");
  expect_config_error(R"({"head_dim": 1e19})", "head_dim: 1e+19 is out of range");
  expect_config_error(R"({"batch": 9223372036854775808})",
                      "batch: 9223372036854775808 is out of range");
  expect_config_error(R"({"batch": 1.5})", "is not an integer");
  // Integral doubles inside int64 still convert.
  EXPECT_EQ(parse_config(R"({"stress": 4.0e18})").measure.stress_calls, 4000000000000000000);
  EXPECT_EQ(parse_config(R"({"batch": [-0.0, 9223372036854775807]})").axes.batch,
            (std::vector<std::int64_t>{0, 9223372036854775807}));
}

// fuzz_config_json: parse_json_text had no nesting bound (the report reader has kMaxJsonDepth):
// {"name": [[[...]]]} parsed (nlohmann's parser is iterative), then the error message's dump()
// and the list copies recursed once per level and overflowed the stack (about 10,000 levels
// under ASan, a few 100,000 without). Deep input is now refused while parsing.
TEST(FuzzRegression, ConfigNestedTooDeepIsAConfigError) {
  constexpr std::size_t kLevels = 1'000'000;
  const std::string deep = std::string(kLevels, '[') + std::string(kLevels, ']');
  expect_config_error(R"({"name": )" + deep + "}", "nested deeper than");
  expect_config_error(R"({"batch": [)" + deep + "]}", "nested deeper than");
  expect_config_error(deep, "nested deeper than");
  // Up to kMaxJsonDepth levels parse, and fail on their content only.
  const std::string ok_depth =
      std::string(kMaxJsonDepth - 1, '[') + std::string(kMaxJsonDepth - 1, ']');
  expect_config_error(R"({"name": )" + ok_depth + "}", "is not a string");
  const std::string too_deep = std::string(kMaxJsonDepth, '[') + std::string(kMaxJsonDepth, ']');
  expect_config_error(R"({"name": )" + too_deep + "}", "nested deeper than");
}

}  // namespace
}  // namespace dcp::report
