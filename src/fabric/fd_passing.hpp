#pragma once
/// @file
/// Passing file descriptors between the ranks of one host: private AF_UNIX sockets and
/// SCM_RIGHTS, with peer-credential checks, bounded waits and cleanup on every path.
///
/// An exported POSIX-fd cuMem handle is a descriptor, valid only in the exporting process, so it
/// cannot travel as bytes over MPI. Each rank listens on a socket inside a private 0700
/// directory (mkdtemp under $TMPDIR or /tmp); the socket paths, process ids and user id are
/// allgathered with World; then every rank connects to every other rank's socket and sends a
/// short hello (job token, its rank) with its descriptor attached, and acknowledges each hello it
/// receives. Both ends check who is on the other side with SO_PEERCRED: same user id, and the
/// process id the peer's rank allgathered. Everything runs in one thread on non-blocking sockets
/// with poll(), so no step can wait longer than the World timeout.
///
/// Protocol of one connection (sender = connecting side, receiver = listening side):
///   sender   -> receiver  FdHello{magic, token, rank} with one descriptor (SCM_RIGHTS)
///   receiver -> sender    one byte kAck, after the receiver checked the credentials and hello

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/world.hpp"
#include "fabric/unique_fd.hpp"

namespace dcp::fabric {

/// Longest socket path that fits sockaddr_un::sun_path with its terminating NUL.
inline constexpr std::size_t kMaxSocketPathBytes = 107;
/// Name of the socket inside the private directory.
inline constexpr std::string_view kSocketName = "fd.sock";
/// Prefix of the private directory's name (mkdtemp adds six characters).
inline constexpr std::string_view kSocketDirPrefix = "dcpbench-";

/// Credentials of the process at the other end of a connected Unix socket (SO_PEERCRED).
struct PeerCredentials {
  pid_t pid = 0;
  uid_t uid = 0;
  gid_t gid = 0;
};

/// Why a peer that claims to be `claimed_rank` must be rejected, or nullopt to accept it.
/// Accepted only when: the claimed rank is in [0, job_pids.size()) and is not `my_rank`, the uid
/// equals `expected_uid`, and the pid equals job_pids[claimed_rank] (which implies it is one of
/// the job's processes). Pure: no system calls.
[[nodiscard]] std::optional<std::string> credential_problem(const PeerCredentials& peer,
                                                            int claimed_rank, int my_rank,
                                                            uid_t expected_uid,
                                                            std::span<const pid_t> job_pids);

/// Folder to create the private socket directory in: `tmpdir_env` ($TMPDIR) when it is set,
/// absolute and short enough for the whole socket path to fit kMaxSocketPathBytes; "/tmp"
/// otherwise. Trailing slashes are dropped. Pure.
[[nodiscard]] std::string socket_parent_dir(const char* tmpdir_env);

/// "<parent>/dcpbench-XXXXXX": the mkdtemp template for `parent`. Pure.
[[nodiscard]] std::string socket_dir_template(std::string_view parent);

/// A listening AF_UNIX stream socket at "<private dir>/fd.sock". The directory comes from
/// mkdtemp (mode 0700, so other users cannot even reach the socket). The destructor closes the
/// socket, unlinks its file and removes the directory, also when the constructor fails half
/// way. Non-blocking and close-on-exec.
class FdListener {
 public:
  /// Creates the directory under socket_parent_dir(getenv("TMPDIR")), binds and listens with a
  /// backlog of `backlog` connections. Throws EnvironmentError naming the failed call.
  explicit FdListener(int backlog);
  FdListener(const FdListener&) = delete;
  FdListener& operator=(const FdListener&) = delete;
  ~FdListener();

  [[nodiscard]] int fd() const { return socket_.get(); }
  /// The private directory, e.g. "/tmp/dcpbench-a1B2c3".
  [[nodiscard]] const std::string& dir() const { return dir_; }
  /// The socket's path inside dir().
  [[nodiscard]] const std::string& path() const { return path_; }

 private:
  void cleanup() noexcept;

  std::string dir_;
  std::string path_;
  UniqueFd socket_;
  bool dir_created_ = false;
  bool socket_bound_ = false;
};

/// Who takes part in one exchange; identical on every rank (gathered with World).
struct FdExchangePeers {
  int rank = 0;
  int size = 1;
  uid_t uid = 0;                   ///< the user every rank runs as
  std::vector<pid_t> pids;         ///< process id of each rank
  std::vector<std::string> paths;  ///< socket path of each rank's listener
  std::uint64_t token = 0;         ///< random per exchange, chosen by rank 0
};

/// Collective: allgathers this process's pid, uid and `listener`'s path; rank 0's random token
/// is broadcast. Throws EnvironmentError when the ranks run as different users or a socket path
/// does not fit, TimeoutError when a rank does not join.
[[nodiscard]] FdExchangePeers gather_fd_exchange_peers(const World& world,
                                                       const FdListener& listener);

/// This rank's part of an exchange: sends `my_fd` to every other rank's listener and receives
/// every other rank's descriptor on `listener`, checking credentials and hellos on both ends.
/// Returns the received descriptors indexed by rank (this rank's slot is empty). Not
/// collective by itself (no MPI), so it can be driven from threads in tests; every rank of
/// `peers` must call it with the same `peers`. Throws EnvironmentError on a rejected peer or a
/// protocol/socket error, TimeoutError when `timeout_s` runs out (naming the ranks still
/// missing). On any exit, every socket it opened and every descriptor it received is closed.
[[nodiscard]] std::vector<UniqueFd> exchange_fds(const FdListener& listener,
                                                 const FdExchangePeers& peers, int my_fd,
                                                 double timeout_s);

/// Descriptors received by share_fd.
struct SharedFds {
  std::vector<UniqueFd> by_rank;  ///< indexed by rank; this rank's slot is empty
  std::string socket_dir;         ///< the private directory that was used (removed by now)
};

/// Collective: the whole exchange with a fresh listener, bounded by world.timeout_s(). The
/// outcome is agreed over all ranks before returning, so one rank's failure fails every rank
/// (the failing rank rethrows its own error; the others throw EnvironmentError naming it). The
/// private directory and its socket are gone when this returns or throws.
[[nodiscard]] SharedFds share_fd(const World& world, int my_fd);

}  // namespace dcp::fabric
