#pragma once
/// @file
/// World: the RAII MPI session and the only code that includes <mpi.h>.
///
/// Every collective is bounded: it is issued non-blocking and polled until `timeout_s`, then
/// throws TimeoutError naming this rank and what was awaited, so that an error on one rank ends
/// the whole job (main() calls abort()) instead of leaving the others stuck in a barrier.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "core/error.hpp"
#include "core/limits.hpp"
#include "core/watchdog.hpp"

namespace dcp {

class World {
 public:
  /// MPI_Init_thread (MPI_THREAD_MULTIPLE requested, so a watchdog may call abort()).
  /// Works as a singleton without mpirun.
  World(int* argc, char*** argv, double timeout_s);
  ~World();
  World(const World&) = delete;
  World& operator=(const World&) = delete;

  [[nodiscard]] int rank() const { return rank_; }
  [[nodiscard]] int size() const { return size_; }
  /// Rank among the ranks on this host (from OMPI_COMM_WORLD_LOCAL_RANK or SLURM_LOCALID,
  /// cross-checked against host names; computed from host names when neither is set).
  [[nodiscard]] int local_rank() const { return local_rank_; }
  [[nodiscard]] int local_size() const { return local_size_; }
  [[nodiscard]] const std::string& host() const { return hosts_[static_cast<std::size_t>(rank_)]; }
  /// Host name of every rank, indexed by rank.
  [[nodiscard]] const std::vector<std::string>& hosts() const { return hosts_; }
  [[nodiscard]] bool single_host() const;
  /// "[rank r/host]": the prefix of every message this rank prints.
  [[nodiscard]] std::string tag() const;

  [[nodiscard]] double timeout_s() const { return timeout_s_; }
  void set_timeout_s(double t) { timeout_s_ = t; }

  /// Bounded barrier; `what` names it in the timeout message.
  void barrier(std::string_view what) const;
  /// Every rank's `mine` (all the same size), concatenated in rank order.
  [[nodiscard]] std::vector<std::byte> allgather_bytes(std::span<const std::byte> mine,
                                                       std::string_view what) const;
  /// Every rank's string (any length, each rank its own), in rank order: the one gather of
  /// variable-size data (rank descriptions, diag's facts).
  [[nodiscard]] std::vector<std::string> allgather_strings(const std::string& mine,
                                                           std::string_view what) const;
  /// Root's bytes copied into every rank's `data` (same size everywhere).
  void broadcast_bytes(std::span<std::byte> data, int root, std::string_view what) const;
  /// Element-wise max / sum over ranks, in place.
  void allreduce_max(std::span<double> data, std::string_view what) const;
  void allreduce_sum(std::span<std::uint64_t> data, std::string_view what) const;
  /// Logical AND / OR over ranks.
  [[nodiscard]] bool all(bool mine, std::string_view what) const;
  [[nodiscard]] bool any(bool mine, std::string_view what) const;

  /// allgather of a trivially copyable value.
  template <typename T>
  [[nodiscard]] std::vector<T> allgather(const T& mine, std::string_view what) const {
    static_assert(std::is_trivially_copyable_v<T>);
    const auto bytes = allgather_bytes(
        std::span<const std::byte>(reinterpret_cast<const std::byte*>(&mine), sizeof(T)), what);
    std::vector<T> out(static_cast<std::size_t>(size_));
    std::memcpy(out.data(), bytes.data(), bytes.size());
    return out;
  }

  /// Ends every rank of the job now with `code` (MPI_Abort). Safe from any thread.
  [[noreturn]] void abort(int code) const noexcept;

  /// Arms the watchdog for a blocking step that has no bounded wait of its own (an NCCL or
  /// cuMem setup call, a blocking copy): if the step outlives `seconds`, this rank prints
  /// "[rank r/host] error: watchdog: <what> did not finish within <s> s" and ends the job
  /// (exit 3). Every collective of this class arms it too, at timeout_s() + 2 s, behind its
  /// own polling deadline.
  [[nodiscard]] Watchdog::Token guard(std::string what, double seconds) const;

 private:
  void wait_request(void* request, std::string_view op, std::string_view what) const;

  int rank_ = 0;
  int size_ = 1;
  int local_rank_ = 0;
  int local_size_ = 1;
  double timeout_s_ = kDefaultTimeoutS;
  std::vector<std::string> hosts_;
  std::unique_ptr<Watchdog> watchdog_;
};

/// The one place a dcp::Error becomes an exit: prints "dcpbench: [rank r/host] error: ..." to
/// stderr and returns the error's exit code. Input errors (exit 2) are found identically on every
/// rank, so only rank 0 prints them and every rank returns normally; any other error may be
/// local to this rank, so it is printed here and, with several ranks, the whole job is ended
/// now (MPI_Abort with the same code) instead of leaving peers waiting. `world` may be null
/// (before MPI started): then `launcher_rank` decides who prints an input error.
int exit_for_error(const Error& e, const World* world, int launcher_rank);

}  // namespace dcp
