#include "report/json_read.hpp"

#include <fmt/format.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <optional>
#include <sstream>
#include <vector>

#include "report/report_error.hpp"

namespace dcp::report {

using nlohmann::json;

std::string JsonSource::message(std::string_view problem) const {
  if (style == JsonStyle::kInput) return fmt::format("{}: '{}': {}", what, origin, problem);
  return fmt::format("{} '{}': {}", what, origin, problem);
}

void JsonSource::fail(std::string_view problem) const {
  if (style == JsonStyle::kInput) throw ConfigError(message(problem));
  throw ReportError(message(problem));
}

json parse_json(std::string_view text, const JsonSource& src) {
  // One entry per open container: the keys seen so far in an object, nullopt for an array.
  std::vector<std::optional<std::vector<std::string>>> open;
  const auto check = [&](int depth, json::parse_event_t event, json& parsed) {
    switch (event) {
      case json::parse_event_t::object_start:
      case json::parse_event_t::array_start:
        if (depth >= kMaxJsonDepth) {
          src.fail(fmt::format("JSON nested deeper than {} levels; refused", kMaxJsonDepth));
        }
        open.emplace_back();
        if (event == json::parse_event_t::object_start) open.back().emplace();
        break;
      case json::parse_event_t::key: {
        auto& keys = open.back();
        const auto& key = parsed.get_ref<const std::string&>();
        if (keys) {
          for (const auto& k : *keys) {
            if (k == key) {
              src.fail(
                  fmt::format("key {} appears twice in one object; refused (which one "
                              "would count is not defined)",
                              detail::quote_for_message(key)));
            }
          }
          keys->push_back(key);
        }
        break;
      }
      case json::parse_event_t::object_end:
      case json::parse_event_t::array_end:
        if (!open.empty()) open.pop_back();
        break;
      case json::parse_event_t::value:
        break;
    }
    return true;
  };
  try {
    return json::parse(text.begin(), text.end(), check);
  } catch (const json::exception& e) {  // parse_error, and out_of_range for 1e400
    src.fail(fmt::format("not valid JSON (truncated or corrupt file?): {}", e.what()));
  }
}

std::string read_text_file(const JsonSource& src) {
  std::error_code ec;
  if (std::filesystem::is_directory(src.origin, ec)) src.fail("cannot read: it is a directory");
  std::ifstream in(src.origin, std::ios::binary);
  if (!in) src.fail("cannot read: no such file or not readable");
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) src.fail("cannot read: read error");
  return std::move(ss).str();
}

json read_json_file(const JsonSource& src) {
  return parse_json(read_text_file(src), src);
}

}  // namespace dcp::report

namespace dcp::report::detail {

std::string child_path(std::string_view path, std::string_view key) {
  if (path.empty()) return std::string(key);
  return fmt::format("{}.{}", path, key);
}

std::string index_path(std::string_view path, std::size_t index) {
  return fmt::format("{}[{}]", path, index);
}

std::string quote_for_message(std::string_view s) {
  constexpr std::size_t kMax = 40;
  std::string cut(s.substr(0, kMax));
  std::string quoted = json(cut).dump(-1, ' ', true, json::error_handler_t::replace);
  if (s.size() > kMax) quoted.insert(quoted.size() - 1, "...");
  return quoted;
}

std::string describe_type(const json& v) {
  switch (v.type()) {
    case json::value_t::null:
      return "null";
    case json::value_t::object:
      return "an object";
    case json::value_t::array:
      return "an array";
    case json::value_t::string:
      return "a string";
    case json::value_t::boolean:
      return "a boolean";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
      return "an integer";
    case json::value_t::number_float:
      return "a number";
    case json::value_t::binary:
    case json::value_t::discarded:
      break;
  }
  return "an unexpected value";
}

void JsonReader::fail(std::string_view path, std::string_view problem) const {
  src_.fail(fmt::format("field '{}': {}", path, problem));
}

void JsonReader::fail_file(std::string_view problem) const {
  src_.fail(problem);
}

void JsonReader::expect_object(const json& v, std::string_view path) const {
  if (!v.is_object()) fail(path, fmt::format("expected an object, got {}", describe_type(v)));
}

void JsonReader::expect_array(const json& v, std::string_view path) const {
  if (!v.is_array()) fail(path, fmt::format("expected an array, got {}", describe_type(v)));
}

const json& JsonReader::member(const json& obj, std::string_view path, std::string_view key) const {
  expect_object(obj, path);
  const auto it = obj.find(key);
  if (it == obj.end()) fail(child_path(path, key), "missing");
  return *it;
}

const json& JsonReader::object(const json& obj, std::string_view path, std::string_view key) const {
  const json& v = member(obj, path, key);
  expect_object(v, child_path(path, key));
  return v;
}

const json& JsonReader::array(const json& obj, std::string_view path, std::string_view key) const {
  const json& v = member(obj, path, key);
  expect_array(v, child_path(path, key));
  return v;
}

std::string JsonReader::as_string(const json& v, std::string_view path) const {
  if (!v.is_string()) fail(path, fmt::format("expected a string, got {}", describe_type(v)));
  return v.get<std::string>();
}

double JsonReader::as_number(const json& v, std::string_view path) const {
  if (v.is_null()) return std::numeric_limits<double>::quiet_NaN();
  if (!v.is_number()) fail(path, fmt::format("expected a number, got {}", describe_type(v)));
  return v.get<double>();
}

std::int64_t JsonReader::as_int64(const json& v, std::string_view path) const {
  if (v.is_number_unsigned()) {
    const auto u = v.get<std::uint64_t>();
    if (u > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
      fail(path, fmt::format("{} is out of range", u));
    }
    return static_cast<std::int64_t>(u);
  }
  if (v.is_number_integer()) return v.get<std::int64_t>();
  fail(path, fmt::format("expected an integer, got {}", describe_type(v)));
}

int JsonReader::as_int(const json& v, std::string_view path) const {
  const std::int64_t x = as_int64(v, path);
  if (x < std::numeric_limits<int>::min() || x > std::numeric_limits<int>::max()) {
    fail(path, fmt::format("{} is out of range", x));
  }
  return static_cast<int>(x);
}

std::uint64_t JsonReader::as_uint64(const json& v, std::string_view path) const {
  if (v.is_number_unsigned()) return v.get<std::uint64_t>();
  if (v.is_number_integer()) {
    fail(path, fmt::format("{} is negative; expected an integer >= 0", v.get<std::int64_t>()));
  }
  fail(path, fmt::format("expected an integer >= 0, got {}", describe_type(v)));
}

bool JsonReader::as_bool(const json& v, std::string_view path) const {
  if (!v.is_boolean()) fail(path, fmt::format("expected true or false, got {}", describe_type(v)));
  return v.get<bool>();
}

std::string JsonReader::get_string(const json& obj, std::string_view path,
                                   std::string_view key) const {
  return as_string(member(obj, path, key), child_path(path, key));
}

double JsonReader::get_number(const json& obj, std::string_view path, std::string_view key) const {
  return as_number(member(obj, path, key), child_path(path, key));
}

std::int64_t JsonReader::get_int64(const json& obj, std::string_view path,
                                   std::string_view key) const {
  return as_int64(member(obj, path, key), child_path(path, key));
}

int JsonReader::get_int(const json& obj, std::string_view path, std::string_view key) const {
  return as_int(member(obj, path, key), child_path(path, key));
}

std::uint64_t JsonReader::get_uint64(const json& obj, std::string_view path,
                                     std::string_view key) const {
  return as_uint64(member(obj, path, key), child_path(path, key));
}

bool JsonReader::get_bool(const json& obj, std::string_view path, std::string_view key) const {
  return as_bool(member(obj, path, key), child_path(path, key));
}

}  // namespace dcp::report::detail
