// MPI plumbing check (no GPU): rank 1 fails while rank 0 waits in a barrier with a long timeout.
// The job must end promptly with exit code 3 through exit_for_error -> MPI_Abort, not by the
// barrier's timeout. Modes: "fail" (as above), "ok" (both ranks pass a barrier, exit 0),
// "timeout" (rank 1 never joins; rank 0's barrier times out after 2 s -> exit 3),
// "watchdog" (rank 0 blocks for 30 s in a step armed for 1 s: the watchdog thread must end the
// whole job with exit 3 after about 1 s, naming the step), "killed" (rank 1 is SIGKILLed while
// rank 0 waits in a barrier with a 60 s timeout: the launcher must end the job at once).
#include <chrono>
#include <csignal>
#include <cstdio>
#include <optional>
#include <string>
#include <thread>

#include "core/error.hpp"
#include "core/world.hpp"

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "fail";
  std::optional<dcp::World> world;
  try {
    world.emplace(&argc, &argv, mode == "timeout" ? 2.0 : 60.0);
    if (mode == "watchdog") {
      if (world->rank() == 0) {
        const auto guard = world->guard("probe blocking step", 1.0);
        std::this_thread::sleep_for(std::chrono::seconds(30));  // a call that never returns
      }
      world->barrier("after the blocking step");
      return 0;
    }
    if (mode == "killed") {
      if (world->rank() == 1) std::raise(SIGKILL);  // dies without a word
      world->barrier("waiting for a rank that was killed");
      return 0;
    }
    if (mode == "ok") {
      world->barrier("probe");
      return 0;
    }
    if (world->rank() == 1) {
      if (mode == "timeout") {
        std::this_thread::sleep_for(std::chrono::seconds(30));  // never joins; must be killed
        return 0;
      }
      throw dcp::EnvironmentError("probe failure on rank 1");
    }
    world->barrier("waiting for rank 1");
    return 0;
  } catch (const dcp::Error& e) {
    return dcp::exit_for_error(e, world ? &*world : nullptr, 0);
  }
}
