#include "core/case.hpp"

#include <fmt/format.h>

namespace dcp {

std::string Case::exchange_key() const {
  std::string k;
  if (op != Op::kExchange) k += fmt::format("op={} ", to_string(op));
  k += fmt::format("cp={} ", cp_size);
  if (!model.empty()) k += fmt::format("model={} ", model);
  if (tokens && heads) {
    k += fmt::format("tokens={} heads={} ", *tokens, *heads);
  } else {
    k += fmt::format("batch={} ", batch);
  }
  k += fmt::format("head_dim={} ", head_dim);
  if (op == Op::kExchange) k += fmt::format("stats_dim={} ", stats_dim);
  k += fmt::format("dtype={} ", to_string(dtype));
  if (lse_base) k += fmt::format("lse={} ", to_string(*lse_base));
  k += fmt::format("launch={}", to_string(launch));
  return k;
}

std::string Case::key() const {
  return fmt::format("{} pdl={} workspace={}", exchange_key(), pdl ? (*pdl ? "on" : "off") : "n/a",
                     workspace ? std::string(to_string(*workspace)) : std::string("n/a"));
}

std::uint64_t Case::o_row_bytes() const {
  return static_cast<std::uint64_t>(head_dim) * element_bytes(dtype);
}

std::uint64_t Case::stats_row_bytes() const {
  return static_cast<std::uint64_t>(stats_dim) * kStatsElementBytes;
}

std::uint64_t Case::bytes_per_peer() const {
  return static_cast<std::uint64_t>(batch) * (o_row_bytes() + stats_row_bytes());
}

std::uint64_t Case::bytes_per_rank() const {
  return bytes_per_peer() * static_cast<std::uint64_t>(cp_size);
}

}  // namespace dcp
