#include "core/error.hpp"

#include <string>

namespace dcp {

void throw_check_failure(const char* expr, const char* file, int line, const std::string& message) {
  throw Error("internal check failed: " + message + " (" + expr + " at " + file + ":" +
              std::to_string(line) + ")");
}

}  // namespace dcp
