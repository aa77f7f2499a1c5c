#include "cli/config_file.hpp"

#include "report/spec_json.hpp"

namespace dcp::cli {

namespace detail {
extern const char kDefaultConfigJson[];  // generated from configs/default.json
}

std::string_view embedded_default_config() {
  return detail::kDefaultConfigJson;
}

SweepSpec default_spec() {
  return report::spec_from_json(
      report::parse_json_text(embedded_default_config(), "built-in configs/default.json"),
      SweepSpec{}, "built-in configs/default.json");
}

SweepSpec load_config(const std::string& path) {
  return report::spec_from_json(report::read_json_file(path), default_spec(), path);
}

}  // namespace dcp::cli
