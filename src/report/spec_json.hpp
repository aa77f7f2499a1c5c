#pragma once
/// @file
/// SweepSpec <-> JSON. The same format serves sweep config files (configs/*.json) and the
/// "config" section of every report, so a report's config can be run again as it is.
///
/// Format (every key optional; an axis takes a value or a list of values):
///   {"name": "...", "description": "...",
///    "batch": [1, 16], "head_dim": 128, "stats_dim": [2], "dtype": ["bf16", "fp16"],
///    "cp_size": [2, 4], "impl": ["native", "nccl-2x"], "workspace": "auto",
///    "launch": ["eager", "graph"], "pdl": ["on", "off"],
///    "warmup": 50, "iters": 1000, "graph_calls": 20, "ring": 5, "seed": 123,
///    "timeout_s": 10, "stress": 0, "inject": "skip-launch:1"}
/// Parsing is strict: an unknown key, a wrong type or an invalid value is a ConfigError naming
/// the field, the value and what is accepted.

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>
#include <vector>

#include "core/sweep.hpp"

namespace dcp::report {

/// Keys a config file may contain, in the order they are written.
const std::vector<std::string>& spec_keys();

/// Serialises every field of `spec` (axes and measurement options).
nlohmann::ordered_json spec_to_json(const SweepSpec& spec);

/// Applies the keys present in `j` on top of `base` (absent keys keep base's values) and
/// validates the result. `origin` names the source in messages (e.g. a file path).
SweepSpec spec_from_json(const nlohmann::json& j, const SweepSpec& base, std::string_view origin);

/// Parses config text with the one JSON reader (report/json_read.hpp: depth bound, duplicate
/// keys and out-of-range numbers refused); errors are ConfigErrors "config: '<origin>': ...".
nlohmann::json parse_json_text(std::string_view text, std::string_view origin);

/// Reads and parses a config file; unreadable or invalid → ConfigError naming the path.
nlohmann::json read_json_file(const std::string& path);

}  // namespace dcp::report
