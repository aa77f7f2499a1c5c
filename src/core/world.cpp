#include "core/world.hpp"

#include <mpi.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include <fmt/format.h>

#include "core/error.hpp"

namespace dcp {

namespace {

constexpr std::size_t kHostNameBytes = 256;

void mpi_check(int rc, const char* what) {
  if (rc != MPI_SUCCESS) {
    std::array<char, MPI_MAX_ERROR_STRING> buf{};
    int len = 0;
    MPI_Error_string(rc, buf.data(), &len);
    throw MpiError(fmt::format("MPI error in {}: {}", what,
                               std::string(buf.data(), static_cast<std::size_t>(len))));
  }
}

std::string this_host() {
  std::array<char, kHostNameBytes> buf{};
  if (gethostname(buf.data(), buf.size() - 1) != 0) return "unknown-host";
  return std::string(buf.data());
}

/// Local rank announced by the launcher, or -1.
int launcher_local_rank() {
  for (const char* var :
       {"OMPI_COMM_WORLD_LOCAL_RANK", "SLURM_LOCALID", "MPI_LOCALRANKID", "PMI_LOCAL_RANK"}) {
    if (const char* v = std::getenv(var)) {
      char* end = nullptr;
      const long r = std::strtol(v, &end, 10);
      if (end != v && *end == '\0' && r >= 0) return static_cast<int>(r);
    }
  }
  return -1;
}

}  // namespace

World::World(int* argc, char*** argv, double timeout_s) : timeout_s_(timeout_s) {
  int provided = 0;
  mpi_check(MPI_Init_thread(argc, argv, MPI_THREAD_MULTIPLE, &provided), "MPI_Init_thread");
  watchdog_ = std::make_unique<Watchdog>([this](const std::string& what, double seconds) {
    std::fprintf(stderr,
                 "dcpbench: %s error: watchdog: %s did not finish within %.1f s; ending the job\n",
                 tag().c_str(), what.c_str(), seconds);
    std::fflush(stderr);
    abort(static_cast<int>(ExitCode::kRuntime));
  });
  // Errors come back as codes (turned into MpiError), not as MPI's default abort.
  mpi_check(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN), "MPI_Comm_set_errhandler");
  mpi_check(MPI_Comm_rank(MPI_COMM_WORLD, &rank_), "MPI_Comm_rank");
  mpi_check(MPI_Comm_size(MPI_COMM_WORLD, &size_), "MPI_Comm_size");

  std::array<char, kHostNameBytes> mine{};
  const std::string h = this_host();
  std::copy_n(h.begin(), std::min(h.size(), mine.size() - 1), mine.begin());
  hosts_.assign(static_cast<std::size_t>(size_), std::string());
  hosts_[static_cast<std::size_t>(rank_)] = h;  // so tag() works if the gather times out
  const auto all = allgather(mine, "host names");
  for (std::size_t r = 0; r < all.size(); ++r)
    hosts_[r] = std::string(all[r].data());

  int computed = 0;
  for (int r = 0; r < rank_; ++r) {
    if (hosts_[static_cast<std::size_t>(r)] == host()) ++computed;
  }
  local_size_ = static_cast<int>(std::count(hosts_.begin(), hosts_.end(), host()));
  const int announced = launcher_local_rank();
  if (announced >= 0 && announced != computed) {
    throw EnvironmentError(fmt::format(
        "{} the launcher says local rank {}, but host names give {}: ranks of one host must be "
        "numbered consecutively (use mpirun --map-by core or srun --distribution=block)",
        tag(), announced, computed));
  }
  local_rank_ = computed;
}

World::~World() {
  watchdog_.reset();
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (!finalized) MPI_Finalize();
}

bool World::single_host() const {
  return std::all_of(hosts_.begin(), hosts_.end(), [&](const auto& h) { return h == hosts_[0]; });
}

std::string World::tag() const {
  return fmt::format("[rank {}/{}]", rank_, host());
}

Watchdog::Token World::guard(std::string what, double seconds) const {
  return watchdog_->arm(std::move(what), seconds);
}

void World::wait_request(void* request, std::string_view op, std::string_view what) const {
  auto* req = static_cast<MPI_Request*>(request);
  // Backstop behind the polling deadline below, should MPI_Test itself block.
  const auto guard_token = guard(fmt::format("{} '{}'", op, what), timeout_s_ + 2.0);
  const auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                            std::chrono::duration<double>(timeout_s_));
  // Busy-poll first: a barrier between ranks that are already in step completes in a few
  // microseconds, and eager timing pays for every one. Back off to sleeping only after that.
  const auto spin_until = std::chrono::steady_clock::now() + std::chrono::microseconds(500);
  auto pause = std::chrono::microseconds(10);
  for (;;) {
    int done = 0;
    mpi_check(MPI_Test(req, &done, MPI_STATUS_IGNORE), "MPI_Test");
    if (done) return;
    const auto now = std::chrono::steady_clock::now();
    if (now > deadline) {
      throw TimeoutError(fmt::format(
          "{} {} '{}' did not complete within {} s: at least one other rank never joined it "
          "(it failed, hangs, or runs a different sweep)",
          tag(), op, what, timeout_s_));
    }
    if (now > spin_until) {
      std::this_thread::sleep_for(pause);
      pause = std::min(pause * 2, std::chrono::microseconds(1000));
    }
  }
}

void World::barrier(std::string_view what) const {
  MPI_Request req{};
  mpi_check(MPI_Ibarrier(MPI_COMM_WORLD, &req), "MPI_Ibarrier");
  wait_request(&req, "barrier", what);
}

std::vector<std::byte> World::allgather_bytes(std::span<const std::byte> mine,
                                              std::string_view what) const {
  std::vector<std::byte> out(mine.size() * static_cast<std::size_t>(size_));
  MPI_Request req{};
  mpi_check(MPI_Iallgather(mine.data(), static_cast<int>(mine.size()), MPI_BYTE, out.data(),
                           static_cast<int>(mine.size()), MPI_BYTE, MPI_COMM_WORLD, &req),
            "MPI_Iallgather");
  wait_request(&req, "allgather", what);
  return out;
}

std::vector<std::string> World::allgather_strings(const std::string& mine,
                                                  std::string_view what) const {
  const auto lengths = allgather(static_cast<std::uint64_t>(mine.size()), what);
  const std::uint64_t longest = *std::max_element(lengths.begin(), lengths.end());
  std::vector<std::byte> buf(static_cast<std::size_t>(std::max<std::uint64_t>(longest, 1)));
  std::memcpy(buf.data(), mine.data(), mine.size());
  const auto all = allgather_bytes(buf, what);
  std::vector<std::string> out;
  out.reserve(lengths.size());
  for (std::size_t r = 0; r < lengths.size(); ++r) {
    const char* p = reinterpret_cast<const char*>(all.data()) + r * buf.size();
    out.emplace_back(p, static_cast<std::size_t>(lengths[r]));
  }
  return out;
}

void World::broadcast_bytes(std::span<std::byte> data, int root, std::string_view what) const {
  MPI_Request req{};
  mpi_check(
      MPI_Ibcast(data.data(), static_cast<int>(data.size()), MPI_BYTE, root, MPI_COMM_WORLD, &req),
      "MPI_Ibcast");
  wait_request(&req, "broadcast", what);
}

void World::allreduce_max(std::span<double> data, std::string_view what) const {
  MPI_Request req{};
  mpi_check(MPI_Iallreduce(MPI_IN_PLACE, data.data(), static_cast<int>(data.size()), MPI_DOUBLE,
                           MPI_MAX, MPI_COMM_WORLD, &req),
            "MPI_Iallreduce");
  wait_request(&req, "allreduce", what);
}

void World::allreduce_sum(std::span<std::uint64_t> data, std::string_view what) const {
  MPI_Request req{};
  mpi_check(MPI_Iallreduce(MPI_IN_PLACE, data.data(), static_cast<int>(data.size()), MPI_UINT64_T,
                           MPI_SUM, MPI_COMM_WORLD, &req),
            "MPI_Iallreduce");
  wait_request(&req, "allreduce", what);
}

bool World::all(bool mine, std::string_view what) const {
  int v = mine ? 1 : 0;
  MPI_Request req{};
  mpi_check(MPI_Iallreduce(MPI_IN_PLACE, &v, 1, MPI_INT, MPI_LAND, MPI_COMM_WORLD, &req),
            "MPI_Iallreduce");
  wait_request(&req, "allreduce", what);
  return v != 0;
}

bool World::any(bool mine, std::string_view what) const {
  int v = mine ? 1 : 0;
  MPI_Request req{};
  mpi_check(MPI_Iallreduce(MPI_IN_PLACE, &v, 1, MPI_INT, MPI_LOR, MPI_COMM_WORLD, &req),
            "MPI_Iallreduce");
  wait_request(&req, "allreduce", what);
  return v != 0;
}

int exit_for_error(const Error& e, const World* world, int launcher_rank) {
  const int code = static_cast<int>(e.exit_code());
  const bool input_error = e.exit_code() == ExitCode::kUsage;
  if (world == nullptr) {
    if (!input_error || launcher_rank == 0) std::fprintf(stderr, "dcpbench: error: %s\n", e.what());
    return code;
  }
  if (input_error) {
    if (world->rank() == 0) std::fprintf(stderr, "dcpbench: error: %s\n", e.what());
    return code;
  }
  std::fprintf(stderr, "dcpbench: %s error: %s\n", world->tag().c_str(), e.what());
  std::fflush(stderr);
  if (world->size() > 1) world->abort(code);
  return code;
}

void World::abort(int code) const noexcept {
  MPI_Abort(MPI_COMM_WORLD, code);
  std::_Exit(code);  // MPI_Abort should not return; make sure we never do
}

}  // namespace dcp
