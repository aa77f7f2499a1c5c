// fd passing without MPI: the credential rule, socket paths, the private directory's life, and
// whole exchanges between "ranks" that are threads of this process (same pid, so the pid check
// passes unless a test tampers with the pid list on purpose).
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/error.hpp"
#include "fabric/fd_passing.hpp"

namespace dcp::fabric {
namespace {

namespace fs = std::filesystem;

bool contains(const std::string& s, std::string_view part) {
  return s.find(part) != std::string::npos;
}

int open_fd_count() {
  int n = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator("/proc/self/fd"))
    ++n;
  return n;
}

// ---- credential rule ------------------------------------------------------------------------

TEST(FabricCredentials, AcceptsTheClaimedRanksProcess) {
  const std::vector<pid_t> pids{100, 200, 300};
  EXPECT_EQ(credential_problem({200, 1000, 1000}, 1, 0, 1000, pids), std::nullopt);
  EXPECT_EQ(credential_problem({100, 1000, 5}, 0, 2, 1000, pids), std::nullopt);
}

TEST(FabricCredentials, RejectsAnotherUser) {
  const std::vector<pid_t> pids{100, 200};
  const auto p = credential_problem({200, 0, 0}, 1, 0, 1000, pids);
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(*p, "it runs as uid 0, but the job runs as uid 1000");
}

TEST(FabricCredentials, RejectsAProcessOutsideTheJob) {
  const std::vector<pid_t> pids{100, 200};
  const auto p = credential_problem({999, 1000, 1000}, 1, 0, 1000, pids);
  ASSERT_TRUE(p.has_value());
  EXPECT_TRUE(contains(*p, "its pid is 999, but rank 1 allgathered pid 200")) << *p;
  EXPECT_TRUE(contains(*p, "not a process of this job")) << *p;
  EXPECT_TRUE(contains(*p, "PID namespaces")) << *p;
}

TEST(FabricCredentials, RejectsAJobProcessClaimingAnotherRank) {
  const std::vector<pid_t> pids{100, 200, 300};
  const auto p = credential_problem({300, 1000, 1000}, 1, 0, 1000, pids);
  ASSERT_TRUE(p.has_value());
  EXPECT_TRUE(contains(*p, "belongs to another rank")) << *p;
}

TEST(FabricCredentials, RejectsBadRankClaims) {
  const std::vector<pid_t> pids{100, 200};
  EXPECT_TRUE(contains(*credential_problem({200, 1, 1}, 2, 0, 1, pids), "outside the job's ranks"));
  EXPECT_TRUE(contains(*credential_problem({200, 1, 1}, -1, 0, 1, pids), "outside"));
  EXPECT_TRUE(contains(*credential_problem({100, 1, 1}, 0, 0, 1, pids), "own rank"));
}

// ---- paths ----------------------------------------------------------------------------------

TEST(FabricSocketPath, ParentDirectory) {
  EXPECT_EQ(socket_parent_dir(nullptr), "/tmp");
  EXPECT_EQ(socket_parent_dir(""), "/tmp");
  EXPECT_EQ(socket_parent_dir("relative/dir"), "/tmp");
  EXPECT_EQ(socket_parent_dir("/scratch/job42"), "/scratch/job42");
  EXPECT_EQ(socket_parent_dir("/scratch/job42///"), "/scratch/job42");
  EXPECT_EQ(socket_parent_dir("/"), "");  // "/dcpbench-XXXXXX" then
  // "/dcpbench-XXXXXX/fd.sock" adds 24 bytes; the whole path must fit 107.
  const std::string fits = "/" + std::string(107 - 24 - 1, 'a');
  EXPECT_EQ(socket_parent_dir(fits.c_str()), fits);
  const std::string too_long = fits + "b";
  EXPECT_EQ(socket_parent_dir(too_long.c_str()), "/tmp");
}

TEST(FabricSocketPath, Template) {
  EXPECT_EQ(socket_dir_template("/tmp"), "/tmp/dcpbench-XXXXXX");
  EXPECT_EQ(socket_dir_template(""), "/dcpbench-XXXXXX");
}

/// Sets TMPDIR for one scope.
class TmpDirOverride {
 public:
  explicit TmpDirOverride(const char* value) {
    if (const char* old = std::getenv("TMPDIR")) old_ = old;
    if (value != nullptr) {
      setenv("TMPDIR", value, 1);
    } else {
      unsetenv("TMPDIR");
    }
  }
  ~TmpDirOverride() {
    if (old_) {
      setenv("TMPDIR", old_->c_str(), 1);
    } else {
      unsetenv("TMPDIR");
    }
  }
  TmpDirOverride(const TmpDirOverride&) = delete;
  TmpDirOverride& operator=(const TmpDirOverride&) = delete;

 private:
  std::optional<std::string> old_;
};

TEST(FabricListener, PrivateDirectoryLivesAsLongAsTheListener) {
  const int fds_before = open_fd_count();
  std::string dir;
  std::string path;
  {
    FdListener l(4);
    dir = l.dir();
    path = l.path();
    EXPECT_EQ(path, dir + "/fd.sock");
    EXPECT_TRUE(dir.rfind("/tmp/dcpbench-", 0) == 0 || std::getenv("TMPDIR") != nullptr) << dir;
    struct stat st {};
    ASSERT_EQ(stat(dir.c_str(), &st), 0);
    EXPECT_TRUE(S_ISDIR(st.st_mode));
    EXPECT_EQ(st.st_mode & 0777, 0700U);
    EXPECT_EQ(st.st_uid, geteuid());
    ASSERT_EQ(stat(path.c_str(), &st), 0);
    EXPECT_TRUE(S_ISSOCK(st.st_mode));
    EXPECT_GE(l.fd(), 0);
  }
  EXPECT_FALSE(fs::exists(path));
  EXPECT_FALSE(fs::exists(dir));
  EXPECT_EQ(open_fd_count(), fds_before);
}

TEST(FabricListener, HonoursTmpdir) {
  std::string templ = (fs::temp_directory_path() / "dcp-tmpdir-XXXXXX").string();
  ASSERT_NE(mkdtemp(templ.data()), nullptr);
  {
    TmpDirOverride env(templ.c_str());
    FdListener l(2);
    EXPECT_EQ(l.dir().rfind(templ + "/dcpbench-", 0), 0U) << l.dir();
  }
  EXPECT_TRUE(fs::is_empty(templ));
  fs::remove(templ);
}

TEST(FabricListener, UnusableTmpdirFailsCleanly) {
  const int fds_before = open_fd_count();
  {
    TmpDirOverride env("/nonexistent-dcpbench-dir");
    try {
      FdListener l(2);
      ADD_FAILURE() << "FdListener succeeded in a missing directory";
    } catch (const EnvironmentError& e) {
      EXPECT_TRUE(contains(e.what(), "mkdtemp(\"/nonexistent-dcpbench-dir/dcpbench-XXXXXX\")"))
          << e.what();
    }
  }
  EXPECT_EQ(open_fd_count(), fds_before);
}

// ---- exchanges between threads --------------------------------------------------------------

/// A memfd holding `text`.
UniqueFd memfd_with(const std::string& text) {
  UniqueFd fd(memfd_create("dcp-fd-test", MFD_CLOEXEC));
  if (!fd.valid()) throw std::runtime_error("memfd_create failed");
  if (write(fd.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size())) {
    throw std::runtime_error("write failed");
  }
  return fd;
}

std::string read_all(int fd) {
  std::string out(256, '\0');
  const ssize_t n = pread(fd, out.data(), out.size(), 0);
  out.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
  return out;
}

/// n thread-"ranks": listeners, peers, and one exchange per thread. `tamper` may edit each
/// rank's view of the peers before its exchange; `skip` ranks never run their exchange.
struct ThreadExchange {
  explicit ThreadExchange(int n) : size(n) {
    for (int r = 0; r < n; ++r)
      listeners.push_back(std::make_unique<FdListener>(n));
    FdExchangePeers base;
    base.size = n;
    base.uid = geteuid();
    base.token = 0x1234abcdULL;
    for (int r = 0; r < n; ++r) {
      base.pids.push_back(getpid());
      base.paths.push_back(listeners[static_cast<std::size_t>(r)]->path());
    }
    for (int r = 0; r < n; ++r) {
      peers.push_back(base);
      peers.back().rank = r;
      texts.push_back("payload of rank " + std::to_string(r));
      fds.push_back(memfd_with(texts.back()));
    }
    results.resize(static_cast<std::size_t>(n));
    errors.resize(static_cast<std::size_t>(n));
  }

  void run(double timeout_s, const std::vector<int>& skip = {}) {
    std::vector<std::thread> threads;
    for (int r = 0; r < size; ++r) {
      if (std::find(skip.begin(), skip.end(), r) != skip.end()) continue;
      threads.emplace_back([this, r, timeout_s] {
        const auto i = static_cast<std::size_t>(r);
        try {
          results[i] = exchange_fds(*listeners[i], peers[i], fds[i].get(), timeout_s);
        } catch (...) {
          errors[i] = std::current_exception();
          listeners[i].reset();  // as share_fd does: pending peers see their connection reset
        }
      });
    }
    for (auto& t : threads)
      t.join();
  }

  /// The error text of rank r, or "" when it succeeded.
  std::string error_of(int r) const {
    const auto& e = errors[static_cast<std::size_t>(r)];
    if (!e) return {};
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      return ex.what();
    }
  }

  int size;
  std::vector<std::unique_ptr<FdListener>> listeners;
  std::vector<FdExchangePeers> peers;
  std::vector<std::string> texts;
  std::vector<UniqueFd> fds;
  std::vector<std::vector<UniqueFd>> results;
  std::vector<std::exception_ptr> errors;
};

TEST(FabricFdExchange, EveryRankReceivesEveryPeersDescriptor) {
  const int fds_before = open_fd_count();
  for (const int n : {2, 3, 5}) {
    ThreadExchange x(n);
    x.run(10.0);
    for (int r = 0; r < n; ++r) {
      ASSERT_EQ(x.error_of(r), "") << "rank " << r;
      const auto& got = x.results[static_cast<std::size_t>(r)];
      ASSERT_EQ(got.size(), static_cast<std::size_t>(n));
      for (int p = 0; p < n; ++p) {
        const auto& fd = got[static_cast<std::size_t>(p)];
        if (p == r) {
          EXPECT_FALSE(fd.valid());
          continue;
        }
        ASSERT_TRUE(fd.valid()) << "rank " << r << " from " << p;
        // A new descriptor for the same open file: the same bytes.
        EXPECT_NE(fd.get(), x.fds[static_cast<std::size_t>(p)].get());
        EXPECT_EQ(read_all(fd.get()), x.texts[static_cast<std::size_t>(p)]);
      }
    }
  }
  EXPECT_EQ(open_fd_count(), fds_before);
}

TEST(FabricFdExchange, WrongPidIsRejectedAndThePeerFailsFast) {
  const int fds_before = open_fd_count();
  {
    ThreadExchange x(2);
    x.peers[0].pids[1] = getpid() + 100000;  // rank 0 expects another process as rank 1
    const auto t0 = std::chrono::steady_clock::now();
    x.run(20.0);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const std::string e0 = x.error_of(0);
    const std::string e1 = x.error_of(1);
    // Rank 0 refuses rank 1's hello (or rank 1's listener, whichever it meets first).
    EXPECT_TRUE(contains(e0, "rank 0 refuses")) << e0;
    EXPECT_TRUE(contains(e0, "rank 1 allgathered pid")) << e0;
    // Rank 1 learns through the closed connection, long before its 20 s timeout.
    EXPECT_FALSE(e1.empty());
    EXPECT_LT(s, 10.0);
  }
  EXPECT_EQ(open_fd_count(), fds_before);
}

TEST(FabricFdExchange, WrongTokenIsRejected) {
  ThreadExchange x(2);
  x.peers[1].token ^= 1;  // rank 1 believes it is in another exchange
  x.run(20.0);
  EXPECT_TRUE(contains(x.error_of(0), "another job's token")) << x.error_of(0);
  EXPECT_FALSE(x.error_of(1).empty());
}

TEST(FabricFdExchange, MissingPeerTimesOutNamingIt) {
  const int fds_before = open_fd_count();
  {
    ThreadExchange x(3);
    const auto t0 = std::chrono::steady_clock::now();
    x.run(0.5, {2});  // rank 2 never exchanges
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    for (int r = 0; r < 2; ++r) {
      EXPECT_THROW(std::rethrow_exception(x.errors[static_cast<std::size_t>(r)]), TimeoutError);
      const std::string e = x.error_of(r);
      EXPECT_TRUE(contains(e, "no descriptor from rank(s) [2]")) << e;
      EXPECT_TRUE(contains(e, "no acknowledgement from rank(s) [2]")) << e;
    }
    EXPECT_GE(s, 0.5);
    EXPECT_LT(s, 5.0);
  }
  EXPECT_EQ(open_fd_count(), fds_before);
}

TEST(FabricFdExchange, ForeignClientIsRejected) {
  // Something that is not a dcpbench rank connects to rank 0's socket and writes garbage.
  ThreadExchange x(2);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strcpy(addr.sun_path, x.listeners[0]->path().c_str());
  UniqueFd c(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  ASSERT_EQ(connect(c.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)), 0);
  const std::string junk(24, 'j');
  ASSERT_EQ(write(c.get(), junk.data(), junk.size()), 24);
  x.run(5.0);
  EXPECT_TRUE(contains(x.error_of(0), "malformed hello")) << x.error_of(0);
}

TEST(FabricFdExchange, OtherUsersCannotReachTheSocket) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to switch to another user";
  FdListener l(2);
  const std::string path = l.path();
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // In the child: become "nobody" and try to connect. Only async-signal-safe calls here.
    if (setgid(65534) != 0 || setuid(65534) != 0) _exit(2);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, path.c_str(), path.size());
    const int s = socket(AF_UNIX, SOCK_STREAM, 0);
    if (s < 0) _exit(3);
    const int rc = connect(s, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr));
    _exit(rc == 0 ? 0 : (errno == EACCES ? 1 : 4));
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 1) << "expected EACCES from the 0700 directory";
}

}  // namespace
}  // namespace dcp::fabric
