#include "report/text_table.hpp"

#include <algorithm>
#include <ostream>

namespace dcp::report::detail {

std::string join(const std::vector<std::string>& items, std::string_view sep) {
  std::string out;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out.append(sep);
    out.append(items[i]);
  }
  return out;
}

std::size_t display_width(const std::string& s) {
  return static_cast<std::size_t>(std::count_if(
      s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

TextTable::TextTable(std::vector<std::string> headers, std::vector<Align> align)
    : headers_(std::move(headers)), align_(std::move(align)) {
  align_.resize(headers_.size(), Align::kLeft);
}

void TextTable::add_row(std::vector<std::string> cells) {
  cells.resize(headers_.size());
  entries_.push_back(Entry{false, {}, std::move(cells)});
}

void TextTable::add_line(std::string line) {
  entries_.push_back(Entry{true, std::move(line), {}});
}

void TextTable::write(std::ostream& out, int indent) const {
  std::vector<std::size_t> width(headers_.size());
  for (std::size_t i = 0; i < headers_.size(); ++i)
    width[i] = display_width(headers_[i]);
  for (const auto& e : entries_) {
    if (e.is_line) continue;
    for (std::size_t i = 0; i < e.cells.size(); ++i)
      width[i] = std::max(width[i], display_width(e.cells[i]));
  }
  const std::string pad(static_cast<std::size_t>(std::max(indent, 0)), ' ');
  auto emit = [&](const std::vector<std::string>& cells) {
    std::string line = pad;
    for (std::size_t i = 0; i < cells.size(); ++i) {
      const std::size_t fill = width[i] - display_width(cells[i]);
      if (i > 0) line += "  ";
      if (align_[i] == Align::kRight) line.append(fill, ' ');
      line += cells[i];
      if (align_[i] == Align::kLeft) line.append(fill, ' ');
    }
    while (!line.empty() && line.back() == ' ')
      line.pop_back();
    out << line << '\n';
  };
  emit(headers_);
  for (const auto& e : entries_) {
    if (e.is_line) {
      out << e.line << '\n';
    } else {
      emit(e.cells);
    }
  }
}

}  // namespace dcp::report::detail
