#include "golden.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string_view>

namespace dcp::testing {

std::string golden_path(const std::string& name) {
  return std::string(DCP_GOLDEN_DIR) + "/" + name;
}

bool updating_golden() {
  const char* v = std::getenv("DCP_UPDATE_GOLDEN");
  return v != nullptr && std::string_view(v) == "1";
}

std::string read_golden(const std::string& name) {
  std::ifstream in(golden_path(name), std::ios::binary);
  if (!in) {
    ADD_FAILURE() << "golden file " << golden_path(name)
                  << " is missing; run the test with DCP_UPDATE_GOLDEN=1 to create it";
    return {};
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void expect_golden(const std::string& name, const std::string& actual) {
  if (updating_golden()) {
    std::ofstream out(golden_path(name), std::ios::binary | std::ios::trunc);
    out << actual;
    ASSERT_TRUE(out.good()) << "cannot write " << golden_path(name);
    return;
  }
  const std::string expected = read_golden(name);
  if (expected == actual) return;
  std::istringstream e(expected), a(actual);
  std::string el, al;
  int line = 0;
  while (true) {
    ++line;
    const bool he = static_cast<bool>(std::getline(e, el));
    const bool ha = static_cast<bool>(std::getline(a, al));
    if (!he && !ha) break;
    if (!he || !ha || el != al) {
      ADD_FAILURE() << "output differs from " << golden_path(name) << " at line " << line
                    << "\n  expected: " << (he ? el : "<end of file>")
                    << "\n  actual:   " << (ha ? al : "<end of output>")
                    << "\n(DCP_UPDATE_GOLDEN=1 rewrites the golden file)";
      return;
    }
  }
  ADD_FAILURE() << "output differs from " << golden_path(name) << " (line endings?)";
}

}  // namespace dcp::testing
