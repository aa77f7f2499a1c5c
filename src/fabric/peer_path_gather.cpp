// gather_peer_paths: the collective half of peer_path.hpp (needs MPI through World).
#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "core/world.hpp"
#include "fabric/nvml.hpp"
#include "fabric/peer_path.hpp"

namespace dcp::fabric {

namespace {

/// Every rank's string, in rank order (strings of any length).
std::vector<std::string> allgather_text(const World& world, const std::string& mine,
                                        std::string_view what) {
  const auto lengths = world.allgather(static_cast<std::uint64_t>(mine.size()), what);
  const std::uint64_t longest = *std::max_element(lengths.begin(), lengths.end());
  std::vector<std::byte> buf(static_cast<std::size_t>(std::max<std::uint64_t>(longest, 1)));
  std::memcpy(buf.data(), mine.data(), mine.size());
  const auto all = world.allgather_bytes(buf, what);
  std::vector<std::string> out;
  for (std::size_t r = 0; r < lengths.size(); ++r) {
    const char* p = reinterpret_cast<const char*>(all.data()) + r * buf.size();
    out.emplace_back(p, static_cast<std::size_t>(lengths[r]));
  }
  return out;
}

}  // namespace

PeerPathTable gather_peer_paths(const World& world, const GpuIdentity& mine) {
  std::vector<GpuIdentity> ids;
  for (const auto& text : allgather_text(world, encode_identity(mine), "peer paths: identities")) {
    ids.push_back(decode_identity(text, "peer paths: a rank's GPU identity"));
  }
  const Nvml nvml;
  const auto row = classify_row(nvml, world.rank(), ids);
  std::vector<std::vector<PeerPath>> rows;
  for (const auto& text : allgather_text(world, encode_row(row), "peer paths: rows")) {
    rows.push_back(decode_row(text, "peer paths: a rank's row"));
  }
  return assemble_table(world.size(), rows);
}

}  // namespace dcp::fabric
