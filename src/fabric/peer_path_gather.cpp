// gather_peer_paths: the collective half of peer_path.hpp (needs MPI through World).
#include <string>
#include <vector>

#include "core/world.hpp"
#include "fabric/nvml.hpp"
#include "fabric/peer_path.hpp"

namespace dcp::fabric {

PeerPathTable gather_peer_paths(const World& world, const GpuIdentity& mine) {
  std::vector<GpuIdentity> ids;
  for (const auto& text :
       world.allgather_strings(encode_identity(mine), "peer paths: identities")) {
    ids.push_back(decode_identity(text, "peer paths: a rank's GPU identity"));
  }
  const Nvml nvml;
  const auto row = classify_row(nvml, world.rank(), ids);
  std::vector<std::vector<PeerPath>> rows;
  for (const auto& text : world.allgather_strings(encode_row(row), "peer paths: rows")) {
    rows.push_back(decode_row(text, "peer paths: a rank's row"));
  }
  return assemble_table(world.size(), rows);
}

}  // namespace dcp::fabric
