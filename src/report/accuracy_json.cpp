#include "report/accuracy_json.hpp"

#include <fmt/format.h>

#include <cmath>
#include <limits>

#include "report/json_write.hpp"

namespace dcp::report::detail {

namespace {

using OJ = nlohmann::ordered_json;
using J = nlohmann::json;

/// An error in ulps: null = infinite.
double read_ulp(const JsonReader& rd, const J& obj, const std::string& path, std::string_view key) {
  const J& v = rd.member(obj, path, key);
  if (v.is_null()) return std::numeric_limits<double>::infinity();
  const double x = rd.as_number(v, child_path(path, key));
  if (x < 0) rd.fail(child_path(path, key), fmt::format("{} is negative", x));
  return x;
}

template <typename T>
T read_uint(const JsonReader& rd, const J& obj, const std::string& path, std::string_view key) {
  const std::uint64_t v = rd.get_uint64(obj, path, key);
  if (v > std::numeric_limits<T>::max()) {
    rd.fail(child_path(path, key), fmt::format("{} is out of range", v));
  }
  return static_cast<T>(v);
}

}  // namespace

OJ accuracy_to_json(const Accuracy& a) {
  OJ j;
  j["identical"] = a.identical();
  j["rows_checked"] = a.rows_checked;
  j["rows_identical"] = a.rows_identical;
  j["elements_checked"] = a.elements_checked;
  j["values_differing"] = a.values_differing;
  j["ulp_max"] = number_or_null(a.ulp_max);
  j["ulp_mean"] = number_or_null(a.ulp_mean());
  j["ulp_sum"] = number_or_null(a.ulp_sum);
  j["lse_ulp_max"] = number_or_null(a.lse_ulp_max);
  j["lse_ulp_mean"] = number_or_null(a.lse_ulp_mean());
  j["lse_ulp_sum"] = number_or_null(a.lse_ulp_sum);
  if (a.first) {
    const MergeDifference& d = *a.first;
    OJ f;
    f["dst_rank"] = d.dst_rank;
    f["call"] = d.call;
    f["entry"] = d.entry;
    f["element"] = d.element;
    f["got_bits"] = d.got_bits;
    f["expected_bits"] = d.expected_bits;
    j["first_difference"] = std::move(f);
  } else {
    j["first_difference"] = nullptr;
  }
  return j;
}

Accuracy read_accuracy(const JsonReader& rd, const J& j, const std::string& p) {
  rd.expect_object(j, p);
  Accuracy a;
  a.rows_checked = rd.get_uint64(j, p, "rows_checked");
  a.rows_identical = rd.get_uint64(j, p, "rows_identical");
  if (a.rows_identical > a.rows_checked) {
    rd.fail(child_path(p, "rows_identical"),
            fmt::format("{} exceeds rows_checked {}", a.rows_identical, a.rows_checked));
  }
  a.elements_checked = rd.get_uint64(j, p, "elements_checked");
  a.values_differing = rd.get_uint64(j, p, "values_differing");
  a.ulp_max = read_ulp(rd, j, p, "ulp_max");
  a.ulp_sum = read_ulp(rd, j, p, "ulp_sum");
  a.lse_ulp_max = read_ulp(rd, j, p, "lse_ulp_max");
  a.lse_ulp_sum = read_ulp(rd, j, p, "lse_ulp_sum");
  // "identical" and the means are derived: they must agree with the counts.
  if (rd.get_bool(j, p, "identical") != a.identical()) {
    rd.fail(child_path(p, "identical"), "does not match rows_checked and rows_identical");
  }
  const J& f = rd.member(j, p, "first_difference");
  if (!f.is_null()) {
    const std::string fp = child_path(p, "first_difference");
    rd.expect_object(f, fp);
    MergeDifference d;
    d.dst_rank = rd.get_int(f, fp, "dst_rank");
    d.call = read_uint<std::uint32_t>(rd, f, fp, "call");
    d.entry = rd.get_int64(f, fp, "entry");
    d.element = rd.get_int(f, fp, "element");
    d.got_bits = read_uint<std::uint32_t>(rd, f, fp, "got_bits");
    d.expected_bits = read_uint<std::uint32_t>(rd, f, fp, "expected_bits");
    a.first = d;
  }
  return a;
}

OJ hang_to_json(const HangReport& h) {
  OJ j;
  j["text"] = to_text(h);
  j["ranks"] = h.ranks;
  j["peers"] = h.peers;
  j["channels_per_pair"] = h.channels_per_pair;
  j["idle_channels"] = h.idle_channels;
  j["errors"] = h.errors;
  OJ channels = OJ::array();
  for (const HangChannel& c : h.channels) {
    OJ x;
    x["rank"] = c.rank;
    x["peer"] = c.peer;
    x["channel"] = c.channel;
    x["head"] = c.head;
    x["credit"] = c.credit;
    x["tail"] = c.tail;
    x["consumed"] = c.consumed;
    x["arrived"] = c.arrived;
    x["consumed_known"] = c.consumed_known;
    channels.push_back(std::move(x));
  }
  j["channels"] = std::move(channels);
  return j;
}

HangReport read_hang(const JsonReader& rd, const J& j, const std::string& p) {
  rd.expect_object(j, p);
  HangReport h;
  h.ranks = rd.get_int(j, p, "ranks");
  h.peers = rd.get_int(j, p, "peers");
  h.channels_per_pair = rd.get_int(j, p, "channels_per_pair");
  h.idle_channels = read_uint<std::size_t>(rd, j, p, "idle_channels");
  const J& errors = rd.array(j, p, "errors");
  const std::string ep = child_path(p, "errors");
  for (std::size_t i = 0; i < errors.size(); ++i)
    h.errors.push_back(rd.as_string(errors[i], index_path(ep, i)));
  const J& channels = rd.array(j, p, "channels");
  const std::string cp = child_path(p, "channels");
  for (std::size_t i = 0; i < channels.size(); ++i) {
    const std::string xp = index_path(cp, i);
    const J& x = channels[i];
    rd.expect_object(x, xp);
    HangChannel c;
    c.rank = rd.get_int(x, xp, "rank");
    c.peer = rd.get_int(x, xp, "peer");
    c.channel = rd.get_int(x, xp, "channel");
    c.head = rd.get_uint64(x, xp, "head");
    c.credit = rd.get_uint64(x, xp, "credit");
    c.tail = rd.get_uint64(x, xp, "tail");
    c.consumed = rd.get_uint64(x, xp, "consumed");
    c.arrived = rd.get_uint64(x, xp, "arrived");
    c.consumed_known = rd.get_bool(x, xp, "consumed_known");
    h.channels.push_back(c);
  }
  return h;
}

}  // namespace dcp::report::detail
