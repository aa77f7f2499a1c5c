#pragma once
/// @file
/// Golden files in tests/golden/. Run a test with DCP_UPDATE_GOLDEN=1 to rewrite the files it
/// checks (then review the diff with git).

#include <string>

namespace dcp::testing {

/// Absolute path of tests/golden/<name>.
std::string golden_path(const std::string& name);
/// The file's content ("" and a test failure when it is missing).
std::string read_golden(const std::string& name);
/// Whether DCP_UPDATE_GOLDEN=1 is set.
bool updating_golden();
/// Expects `actual` to equal tests/golden/<name> (reports the first differing line); with
/// DCP_UPDATE_GOLDEN=1 writes `actual` to the file instead.
void expect_golden(const std::string& name, const std::string& actual);

}  // namespace dcp::testing
