#pragma once
/// @file
/// Where a run's configuration comes from, in order of precedence (later wins):
///   1. configs/default.json, compiled into the binary (the built-in default sweep)
///   2. --config FILE (keys present in FILE replace the default's)
///   3. command-line flags

#include <string>
#include <string_view>

#include "core/sweep.hpp"

namespace dcp::cli {

/// The text of configs/default.json as compiled in.
std::string_view embedded_default_config();

/// The built-in default spec (configs/default.json applied to SweepSpec{}).
SweepSpec default_spec();

/// default_spec() with `path`'s keys applied; ConfigError for an unreadable or invalid file.
SweepSpec load_config(const std::string& path);

}  // namespace dcp::cli
