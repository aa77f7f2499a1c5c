#pragma once
/// @file
/// What the launcher (Open MPI, Slurm, PMI) tells a process before MPI starts: the job's size and
/// this process's rank. Used where no MPI session exists (list, input errors before MPI_Init).

namespace dcp::cli {

/// World size announced by the launcher, or 1 outside a launcher.
int launcher_world_size();
/// This process's rank announced by the launcher, or 0.
int launcher_rank();

}  // namespace dcp::cli
