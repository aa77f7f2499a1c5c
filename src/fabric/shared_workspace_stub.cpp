// Placeholder for the ipc/fabric workspaces, so that everything links before they exist. The
// real implementation replaces this file in src/fabric/CMakeLists.txt.
#include "core/error.hpp"
#include "fabric/workspace.hpp"

namespace dcp::fabric {

std::unique_ptr<Workspace> make_shared_workspace(WorkspaceKind /*kind*/, const World& /*world*/,
                                                 std::size_t /*segment_bytes*/) {
  throw EnvironmentError("workspace ipc/fabric: not built yet");
}

}  // namespace dcp::fabric
