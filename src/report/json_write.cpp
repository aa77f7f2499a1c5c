#include "report/json_write.hpp"

#include <cmath>
#include <ostream>
#include <string>

namespace dcp::report::detail {

namespace {

using OJ = nlohmann::ordered_json;

std::string scalar(const OJ& v) {
  return v.dump(-1, ' ', false, OJ::error_handler_t::replace);
}

bool is_flat(const OJ& arr) {
  for (const auto& e : arr) {
    if (e.is_structured()) return false;
  }
  return true;
}

void emit(const OJ& j, std::ostream& out, int indent) {
  const std::string pad(static_cast<std::size_t>(indent + 2), ' ');
  const std::string close_pad(static_cast<std::size_t>(indent), ' ');
  if (j.is_object()) {
    if (j.empty()) {
      out << "{}";
      return;
    }
    out << "{\n";
    bool first = true;
    for (const auto& [key, value] : j.items()) {
      if (!first) out << ",\n";
      first = false;
      out << pad << scalar(OJ(key)) << ": ";
      emit(value, out, indent + 2);
    }
    out << '\n' << close_pad << '}';
  } else if (j.is_array()) {
    if (j.empty()) {
      out << "[]";
      return;
    }
    if (is_flat(j)) {
      out << '[';
      bool first = true;
      for (const auto& e : j) {
        if (!first) out << ", ";
        first = false;
        out << scalar(e);
      }
      out << ']';
      return;
    }
    out << "[\n";
    bool first = true;
    for (const auto& e : j) {
      if (!first) out << ",\n";
      first = false;
      out << pad;
      emit(e, out, indent + 2);
    }
    out << '\n' << close_pad << ']';
  } else {
    out << scalar(j);
  }
}

}  // namespace

OJ number_or_null(double v) {
  return std::isfinite(v) ? OJ(v) : OJ(nullptr);
}

void write_pretty(const OJ& j, std::ostream& out) {
  emit(j, out, 0);
  out << '\n';
}

}  // namespace dcp::report::detail
