#pragma once
/// @file
/// A small aligned text table for the human printers. Not part of the public API.

#include <iosfwd>
#include <string>
#include <string_view>
#include <vector>

namespace dcp::report::detail {

enum class Align { kLeft, kRight };

class TextTable {
 public:
  /// One column per header; `align` gives each column's alignment.
  TextTable(std::vector<std::string> headers, std::vector<Align> align);

  /// A row of cells (missing trailing cells print empty).
  void add_row(std::vector<std::string> cells);
  /// A line printed as it is, between rows (a group title); it does not widen the columns.
  void add_line(std::string line);

  /// Header, then rows and lines; columns separated by two spaces; `indent` spaces before each
  /// row; no trailing spaces. Widths count UTF-8 code points.
  void write(std::ostream& out, int indent = 0) const;

 private:
  struct Entry {
    bool is_line = false;
    std::string line;
    std::vector<std::string> cells;
  };
  std::vector<std::string> headers_;
  std::vector<Align> align_;
  std::vector<Entry> entries_;
};

/// The items separated by `sep`.
std::string join(const std::vector<std::string>& items, std::string_view sep);

/// Display width of UTF-8 text (code points).
std::size_t display_width(const std::string& s);

}  // namespace dcp::report::detail
