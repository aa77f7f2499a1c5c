#pragma once
/// @file
/// The one JSON reader of dcpbench: every JSON input (config files, run reports, diag reports,
/// thresholds, the run context gathered across ranks) is parsed by parse_json() and read with
/// detail::JsonReader. The readers differ only in their messages (JsonSource).
///
/// Parsing is safe on any input: nesting deeper than kMaxJsonDepth is refused while parsing
/// (copying, printing or destroying a value recurses once per level), a key given twice in one
/// object is refused (nlohmann would silently keep the last), and a number outside double's
/// range is refused. Typed access fails with "<source>: field '<path>': <problem>".

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace dcp::report {

/// Deepest JSON nesting a reader accepts (a report nests 6 levels); deeper input is refused
/// while parsing, so a hostile file cannot exhaust the stack.
inline constexpr int kMaxJsonDepth = 64;

/// How a reader's messages start.
enum class JsonStyle {
  kReport,  ///< "report 'x.json': ...": a file the tool wrote (ReportError)
  kInput,   ///< "config: 'x.json': ...": user input, named like every input field (ConfigError)
};

/// Where JSON text comes from, for messages. Both styles exit with code 2.
struct JsonSource {
  std::string what;    ///< "report", "diag report", "thresholds", "config", ...
  std::string origin;  ///< the file's path, or a description ("built-in configs/default.json")
  JsonStyle style = JsonStyle::kReport;

  /// "<what> '<origin>': <problem>" (report) or "<what>: '<origin>': <problem>" (input).
  [[nodiscard]] std::string message(std::string_view problem) const;
  /// Throws ReportError (report style) or ConfigError (input style) with message(problem).
  [[noreturn]] void fail(std::string_view problem) const;
};

/// Parses `text` (see the file comment for what is refused); errors via src.fail().
nlohmann::json parse_json(std::string_view text, const JsonSource& src);

/// The whole file `src.origin`; src.fail() when it cannot be read (missing, a directory, a read
/// error).
std::string read_text_file(const JsonSource& src);

/// parse_json(read_text_file(src), src).
nlohmann::json read_json_file(const JsonSource& src);

}  // namespace dcp::report

namespace dcp::report::detail {

/// "a.b" / "a[3]": the path of a child field, for messages.
std::string child_path(std::string_view path, std::string_view key);
std::string index_path(std::string_view path, std::size_t index);

/// A value quoted for a message: JSON-escaped (one line, ASCII) and cut to about 40 characters.
std::string quote_for_message(std::string_view s);

/// "a string", "an array", ... : a JSON value's type for messages.
std::string describe_type(const nlohmann::json& v);

/// Strict, typed access to parsed JSON. Failures are "<source>: field '<path>': <problem>",
/// thrown as JsonSource::fail does.
class JsonReader {
 public:
  explicit JsonReader(JsonSource src) : src_(std::move(src)) {}
  JsonReader(std::string what, std::string origin)
      : src_{std::move(what), std::move(origin), JsonStyle::kReport} {}

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

  [[nodiscard]] const std::string& what() const { return src_.what; }
  [[nodiscard]] const std::string& origin() const { return src_.origin; }
  [[nodiscard]] const JsonSource& source() const { return src_; }

 private:
  JsonSource src_;
};

}  // namespace dcp::report::detail
