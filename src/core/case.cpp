#include "core/case.hpp"

#include <fmt/format.h>

namespace dcp {

std::string Case::exchange_key() const {
  return fmt::format("cp={} batch={} head_dim={} stats_dim={} dtype={} launch={}", cp_size, batch,
                     head_dim, stats_dim, to_string(dtype), to_string(launch));
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
