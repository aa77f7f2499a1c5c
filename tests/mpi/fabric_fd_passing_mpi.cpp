// fd passing between real processes (no GPU): every rank shares a memfd over the private Unix
// sockets and reads the same bytes back through the descriptors it received; a rank whose pid
// does not match is refused; a rank that never joins makes the others time out, naming it; one
// rank's failure fails every rank. Run under mpirun with 2 or more ranks.
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/world.hpp"
#include "fabric/agree.hpp"
#include "fabric/fd_passing.hpp"

namespace {

dcp::World* g_world = nullptr;

using dcp::fabric::UniqueFd;

bool contains(const std::string& s, std::string_view part) {
  return s.find(part) != std::string::npos;
}

int open_fd_count() {
  int n = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator("/proc/self/fd"))
    ++n;
  return n;
}

std::string payload(int rank, pid_t pid) {
  return "dcpbench fd-passing payload of rank " + std::to_string(rank) + ", pid " +
         std::to_string(pid);
}

UniqueFd memfd_with(const std::string& text) {
  UniqueFd fd(memfd_create("dcp-mpi-fd-test", MFD_CLOEXEC));
  if (!fd.valid()) throw std::runtime_error("memfd_create failed");
  if (write(fd.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size())) {
    throw std::runtime_error("write failed");
  }
  return fd;
}

std::string read_all(int fd) {
  std::string out(512, '\0');
  const ssize_t n = pread(fd, out.data(), out.size(), 0);
  out.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
  return out;
}

std::string what_of(const std::exception_ptr& e) {
  if (!e) return {};
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    return ex.what();
  }
}

TEST(MpiFdPassing, EveryRankReadsEveryPeersBytes) {
  const dcp::World& w = *g_world;
  const int fds_before = open_fd_count();
  {
    const UniqueFd mine = memfd_with(payload(w.rank(), getpid()));
    const auto pids = w.allgather(static_cast<std::int64_t>(getpid()), "test pids");
    const dcp::fabric::SharedFds got = dcp::fabric::share_fd(w, mine.get());
    ASSERT_EQ(got.by_rank.size(), static_cast<std::size_t>(w.size()));
    for (int r = 0; r < w.size(); ++r) {
      const auto& fd = got.by_rank[static_cast<std::size_t>(r)];
      if (r == w.rank()) {
        EXPECT_FALSE(fd.valid());
        continue;
      }
      ASSERT_TRUE(fd.valid()) << "nothing from rank " << r;
      EXPECT_EQ(read_all(fd.get()),
                payload(r, static_cast<pid_t>(pids[static_cast<std::size_t>(r)])));
    }
    // The private directory is gone once share_fd returns.
    EXPECT_EQ(got.socket_dir.rfind("/dcpbench-"), got.socket_dir.find("/dcpbench-"));
    EXPECT_FALSE(std::filesystem::exists(got.socket_dir)) << got.socket_dir;
  }
  EXPECT_EQ(open_fd_count(), fds_before);
  w.barrier("after exchange test");
}

TEST(MpiFdPassing, WrongPidIsRefused) {
  const dcp::World& w = *g_world;
  const int fds_before = open_fd_count();
  std::exception_ptr error;
  {
    const UniqueFd mine = memfd_with(payload(w.rank(), getpid()));
    std::optional<dcp::fabric::FdListener> listener(std::in_place, w.size());
    dcp::fabric::FdExchangePeers peers = dcp::fabric::gather_fd_exchange_peers(w, *listener);
    if (w.rank() == 0) peers.pids[1] += 100000;  // rank 0 expects another process as rank 1
    try {
      (void)dcp::fabric::exchange_fds(*listener, peers, mine.get(), 20.0);
    } catch (...) {
      error = std::current_exception();
    }
    listener.reset();
  }
  const auto t0 = std::chrono::steady_clock::now();
  w.barrier("after wrong-pid test");
  const double waited =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const std::string e = what_of(error);
  if (w.rank() == 0) {
    EXPECT_TRUE(contains(e, "rank 0 refuses")) << e;
    EXPECT_TRUE(contains(e, "but rank 1 allgathered pid")) << e;
  } else if (w.rank() == 1) {
    EXPECT_FALSE(e.empty()) << "rank 1 should have failed: rank 0 refused it";
  }
  EXPECT_LT(waited, 10.0) << "a refused rank must fail fast, not wait for its timeout";
  EXPECT_EQ(open_fd_count(), fds_before);
}

TEST(MpiFdPassing, MissingRankTimesOutNamingIt) {
  const dcp::World& w = *g_world;
  const int last = w.size() - 1;
  std::exception_ptr error;
  {
    const UniqueFd mine = memfd_with(payload(w.rank(), getpid()));
    dcp::fabric::FdListener listener(w.size());
    const dcp::fabric::FdExchangePeers peers = dcp::fabric::gather_fd_exchange_peers(w, listener);
    if (w.rank() != last) {  // the last rank never exchanges
      try {
        (void)dcp::fabric::exchange_fds(listener, peers, mine.get(), 1.0);
      } catch (...) {
        error = std::current_exception();
      }
    }
    w.barrier("missing-rank test");  // the last rank's listener lives until the others gave up
  }
  if (w.rank() != last) {
    ASSERT_TRUE(error);
    EXPECT_THROW(std::rethrow_exception(error), dcp::TimeoutError);
    EXPECT_TRUE(contains(what_of(error), "no descriptor from rank(s) [" + std::to_string(last)))
        << what_of(error);
  }
}

TEST(MpiFdPassing, OneRanksFailureFailsEveryRank) {
  const dcp::World& w = *g_world;
  const int fds_before = open_fd_count();
  {
    const UniqueFd mine = memfd_with(payload(w.rank(), getpid()));
    // Rank 1 offers a descriptor that does not exist: its sendmsg fails (EBADF).
    const int offered = w.rank() == 1 ? 1000000 : mine.get();
    try {
      (void)dcp::fabric::share_fd(w, offered);
      ADD_FAILURE() << "share_fd succeeded although rank 1 failed";
    } catch (const dcp::EnvironmentError& e) {
      // Rank 1 reports its own cause; the others name rank 1 as the cause, whatever they saw
      // themselves (a connection closed without a hello, a socket already gone).
      if (w.rank() == 1) {
        EXPECT_TRUE(contains(e.what(), "cannot send its descriptor")) << e.what();
      } else {
        EXPECT_TRUE(contains(e.what(),
                             "passing the POSIX fds failed on rank(s) 1 (see that "
                             "rank's message)"))
            << e.what();
      }
    }
  }
  EXPECT_EQ(open_fd_count(), fds_before);
  w.barrier("after failure test");
}

}  // namespace

int main(int argc, char** argv) {
  std::optional<dcp::World> world;
  try {
    world.emplace(&argc, &argv, 30.0);
  } catch (const dcp::Error& e) {
    return dcp::exit_for_error(e, nullptr, 0);
  }
  if (world->size() < 2) {
    std::fprintf(stderr, "run this test with at least 2 ranks\n");
    return 1;
  }
  g_world = &*world;
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
