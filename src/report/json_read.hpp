#pragma once
/// @file
/// Strict, typed access to parsed JSON for the report layer's readers (reports, thresholds).
/// Every failure is a ReportError of the form
///   "<what> '<origin>': field '<path>': <problem>"
/// so a message always names the file and the field. Not part of the public API.

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace dcp::report::detail {

/// "a.b" / "a[3]": the path of a child field, for messages.
std::string child_path(std::string_view path, std::string_view key);
std::string index_path(std::string_view path, std::size_t index);

/// A value quoted for a message: JSON-escaped (one line, ASCII) and cut to about 40 characters.
std::string quote_for_message(std::string_view s);

/// "a string", "an array", ... : a JSON value's type for messages.
std::string describe_type(const nlohmann::json& v);

class JsonReader {
 public:
  JsonReader(std::string what, std::string origin)
      : what_(std::move(what)), origin_(std::move(origin)) {}

  /// Throws ReportError naming the file and `path`.
  [[noreturn]] void fail(std::string_view path, std::string_view problem) const;
  /// Throws ReportError naming the file only (no field).
  [[noreturn]] void fail_file(std::string_view problem) const;

  /// `v` must be an object / array (checks the value at `path` itself).
  void expect_object(const nlohmann::json& v, std::string_view path) const;
  void expect_array(const nlohmann::json& v, std::string_view path) const;

  /// Member `key` of object `obj` (whose own path is `path`); missing → error.
  const nlohmann::json& member(const nlohmann::json& obj, std::string_view path,
                               std::string_view key) const;
  const nlohmann::json& object(const nlohmann::json& obj, std::string_view path,
                               std::string_view key) const;
  const nlohmann::json& array(const nlohmann::json& obj, std::string_view path,
                              std::string_view key) const;

  // Value conversions; `path` names the value itself.
  [[nodiscard]] std::string as_string(const nlohmann::json& v, std::string_view path) const;
  /// A number; null stands for a non-finite value and reads as NaN.
  [[nodiscard]] double as_number(const nlohmann::json& v, std::string_view path) const;
  [[nodiscard]] std::int64_t as_int64(const nlohmann::json& v, std::string_view path) const;
  [[nodiscard]] int as_int(const nlohmann::json& v, std::string_view path) const;
  [[nodiscard]] std::uint64_t as_uint64(const nlohmann::json& v, std::string_view path) const;
  [[nodiscard]] bool as_bool(const nlohmann::json& v, std::string_view path) const;

  // Member conversions: member(obj, path, key) then as_*.
  [[nodiscard]] std::string get_string(const nlohmann::json& obj, std::string_view path,
                                       std::string_view key) const;
  [[nodiscard]] double get_number(const nlohmann::json& obj, std::string_view path,
                                  std::string_view key) const;
  [[nodiscard]] std::int64_t get_int64(const nlohmann::json& obj, std::string_view path,
                                       std::string_view key) const;
  [[nodiscard]] int get_int(const nlohmann::json& obj, std::string_view path,
                            std::string_view key) const;
  [[nodiscard]] std::uint64_t get_uint64(const nlohmann::json& obj, std::string_view path,
                                         std::string_view key) const;
  [[nodiscard]] bool get_bool(const nlohmann::json& obj, std::string_view path,
                              std::string_view key) const;

  [[nodiscard]] const std::string& what() const { return what_; }
  [[nodiscard]] const std::string& origin() const { return origin_; }

 private:
  std::string what_;
  std::string origin_;
};

}  // namespace dcp::report::detail
