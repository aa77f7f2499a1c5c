#pragma once
/// @file
/// The report layer's JSON layout: objects one key per line, arrays of scalars on one line (so
/// samples, argv and intervals stay compact). Not part of the public API.

#include <nlohmann/json.hpp>

#include <iosfwd>

namespace dcp::report::detail {

/// A finite double as a JSON number, a non-finite one as null.
nlohmann::ordered_json number_or_null(double v);

/// Writes `j` indented by 2, ending with a newline. Numbers are printed round-trippable; strings
/// that are not valid UTF-8 get U+FFFD in place of the bad bytes.
void write_pretty(const nlohmann::ordered_json& j, std::ostream& out);

}  // namespace dcp::report::detail
