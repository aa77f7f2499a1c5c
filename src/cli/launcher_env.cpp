#include "cli/launcher_env.hpp"

#include <cstdlib>
#include <initializer_list>

namespace dcp::cli {

namespace {
int first_env_int(std::initializer_list<const char*> names, int fallback) {
  for (const char* n : names) {
    if (const char* v = std::getenv(n)) {
      char* end = nullptr;
      const long x = std::strtol(v, &end, 10);
      if (end != v && *end == '\0' && x >= 0) return static_cast<int>(x);
    }
  }
  return fallback;
}
}  // namespace

int launcher_world_size() {
  return first_env_int({"OMPI_COMM_WORLD_SIZE", "SLURM_NTASKS", "PMI_SIZE", "PMIX_SIZE"}, 1);
}

int launcher_rank() {
  return first_env_int({"OMPI_COMM_WORLD_RANK", "SLURM_PROCID", "PMI_RANK", "PMIX_RANK"}, 0);
}

}  // namespace dcp::cli
