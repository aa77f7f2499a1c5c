#pragma once
/// @file
/// The wire format of facts gathered across ranks: JSON text (nlohmann). Internal to the rule
/// files (groups/*.cpp, rank_facts.cpp): each defines encode/decode overloads for its facts with
/// these helpers, so no public header includes nlohmann.

#include <fmt/format.h>

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "core/error.hpp"

namespace dcp::diag::wire {

template <typename T>
std::string encode(const T& v) {
  return nlohmann::json(v).dump();
}

/// Parses `text` into `out`; throws dcp::Error naming `what` on malformed text.
template <typename T>
void decode(std::string_view text, T& out, std::string_view what) {
  try {
    nlohmann::json::parse(text).get_to(out);
  } catch (const nlohmann::json::exception& e) {
    throw Error(fmt::format("diag: malformed {} from a peer rank: {}", what, e.what()));
  }
}

}  // namespace dcp::diag::wire
