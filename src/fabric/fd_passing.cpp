// Why one file of ~720 lines: both ends of the fd-passing protocol over a Unix socket (listener,
// connector, handshake, SCM_RIGHTS, peer credential checks, every wait bounded) must agree byte
// for byte; keeping them together keeps that agreement reviewable in one place.
#include "fabric/fd_passing.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <random>
#include <thread>

#include <fmt/format.h>

#include "core/error.hpp"
#include "fabric/agree.hpp"

namespace dcp::fabric {

namespace {

static_assert(sizeof(sockaddr_un::sun_path) == kMaxSocketPathBytes + 1);

constexpr std::uint64_t kHelloMagic = 0x3130304446504344ULL;  // "DCPFD001" little-endian
constexpr std::uint8_t kAck = 0xA5;

/// The hello a sender writes, with its descriptor attached.
struct FdHello {
  std::uint64_t magic = kHelloMagic;
  std::uint64_t token = 0;
  std::int32_t rank = -1;
  std::int32_t reserved = 0;
};

std::string errno_text(int err) {
  return fmt::format("{} (errno {})", std::strerror(err), err);
}

[[noreturn]] void throw_sys(std::string_view what, int err) {
  throw EnvironmentError(fmt::format("fd passing: {} failed: {}", what, errno_text(err)));
}

/// A failure caused by a peer that went away (it closed or reset its connection, or its socket
/// is gone): usually the consequence of that peer's own failure, reported as such.
class PeerGone : public EnvironmentError {
 public:
  using EnvironmentError::EnvironmentError;
};

bool is_peer_gone_errno(int err) {
  return err == ECONNREFUSED || err == ECONNRESET || err == ENOENT || err == EPIPE;
}

using Clock = std::chrono::steady_clock;

Clock::time_point deadline_after(double timeout_s) {
  return Clock::now() + std::chrono::duration_cast<Clock::duration>(
                            std::chrono::duration<double>(std::max(timeout_s, 0.0)));
}

/// Milliseconds left until `deadline` for poll(), at least 0, at most 100 (so the loop notices
/// the deadline promptly).
int poll_ms(Clock::time_point deadline) {
  const auto left =
      std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return static_cast<int>(std::clamp<long long>(left, 0, 100));
}

sockaddr_un make_address(const std::string& path) {
  if (path.size() > kMaxSocketPathBytes) {
    throw EnvironmentError(fmt::format(
        "fd passing: socket path '{}' is {} bytes, longer than the {} a Unix socket allows", path,
        path.size(), kMaxSocketPathBytes));
  }
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.data(), path.size());
  return addr;
}

PeerCredentials peer_credentials(int sock) {
  ucred cred{};
  socklen_t len = sizeof(cred);
  if (getsockopt(sock, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
    throw_sys("getsockopt(SO_PEERCRED)", errno);
  }
  return PeerCredentials{cred.pid, cred.uid, cred.gid};
}

/// Ranks in `pending` as "1, 3".
std::string rank_list(const std::vector<int>& ranks) {
  return fmt::format("{}", fmt::join(ranks, ", "));
}

/// A connection this rank opened to a peer's listener, waiting for the peer's ack.
struct Outgoing {
  int peer = -1;
  UniqueFd sock;
  bool acked = false;
};

/// A connection a peer opened to this rank's listener, delivering its hello and descriptor.
struct Incoming {
  UniqueFd sock;
  PeerCredentials creds;
  FdHello hello;
  std::size_t got = 0;  ///< bytes of hello received so far
  UniqueFd fd;          ///< the descriptor that came with the hello
};

/// Connects to `peer`'s listener (non-blocking; retries while its backlog is full), checks who
/// listens there, and sends the hello with `my_fd` attached.
Outgoing connect_and_send(const FdExchangePeers& peers, int peer, int my_fd,
                          Clock::time_point deadline) {
  const std::string& path = peers.paths[static_cast<std::size_t>(peer)];
  const sockaddr_un addr = make_address(path);
  Outgoing out;
  out.peer = peer;
  for (;;) {
    out.sock = UniqueFd(socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!out.sock.valid()) throw_sys("socket(AF_UNIX)", errno);
    if (connect(out.sock.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) == 0) {
      break;
    }
    const int err = errno;
    // A full backlog gives EAGAIN on a non-blocking Unix socket: try again until the deadline.
    if (err != EAGAIN && err != EINTR) {
      const std::string msg =
          fmt::format("fd passing: rank {} cannot connect to rank {}'s socket {}: {}", peers.rank,
                      peer, path, errno_text(err));
      if (is_peer_gone_errno(err)) throw PeerGone(msg);
      throw EnvironmentError(msg);
    }
    if (Clock::now() > deadline) {
      throw TimeoutError(
          fmt::format("fd passing: rank {} could not connect to rank {}'s socket "
                      "{} before the timeout (its backlog stayed full)",
                      peers.rank, peer, path));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }

  // The listener's credentials are those of the process that called listen().
  const PeerCredentials creds = peer_credentials(out.sock.get());
  const std::vector<pid_t>& pids = peers.pids;
  if (auto problem = credential_problem(creds, peer, peers.rank, peers.uid, pids)) {
    throw EnvironmentError(fmt::format("fd passing: rank {} refuses the socket {} of rank {}: {}",
                                       peers.rank, path, peer, *problem));
  }

  FdHello hello;
  hello.token = peers.token;
  hello.rank = peers.rank;
  iovec iov{&hello, sizeof(hello)};
  alignas(cmsghdr) std::array<char, CMSG_SPACE(sizeof(int))> control{};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control.data();
  msg.msg_controllen = control.size();
  cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
  cmsg->cmsg_level = SOL_SOCKET;
  cmsg->cmsg_type = SCM_RIGHTS;
  cmsg->cmsg_len = CMSG_LEN(sizeof(int));
  std::memcpy(CMSG_DATA(cmsg), &my_fd, sizeof(int));
  for (;;) {
    const ssize_t n = sendmsg(out.sock.get(), &msg, MSG_NOSIGNAL);
    if (n == static_cast<ssize_t>(sizeof(hello))) break;
    if (n >= 0) {
      // A 24-byte message on a fresh Unix stream socket is never split; treat it as an error.
      throw EnvironmentError(fmt::format("fd passing: short send to rank {} ({} of {} bytes)", peer,
                                         n, sizeof(hello)));
    }
    const int err = errno;
    if (err != EAGAIN && err != EINTR) {
      const std::string text =
          fmt::format("fd passing: rank {} cannot send its descriptor to rank {}: sendmsg: {}",
                      peers.rank, peer, errno_text(err));
      if (is_peer_gone_errno(err)) throw PeerGone(text);
      throw EnvironmentError(text);
    }
    if (Clock::now() > deadline) {
      throw TimeoutError(fmt::format(
          "fd passing: rank {} could not send to rank {} before the timeout", peers.rank, peer));
    }
    pollfd p{out.sock.get(), POLLOUT, 0};
    (void)poll(&p, 1, poll_ms(deadline));
  }
  return out;
}

/// Reads what is available of an incoming hello; returns true once it is complete.
bool read_hello(Incoming& in, int my_rank) {
  for (;;) {
    auto* dst = reinterpret_cast<char*>(&in.hello) + in.got;
    iovec iov{dst, sizeof(FdHello) - in.got};
    alignas(cmsghdr) std::array<char, CMSG_SPACE(sizeof(int) * 4)> control{};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.data();
    msg.msg_controllen = control.size();
    const ssize_t n = recvmsg(in.sock.get(), &msg, MSG_CMSG_CLOEXEC);
    if (n < 0) {
      const int err = errno;
      if (err == EAGAIN || err == EINTR) return false;
      const std::string text =
          fmt::format("fd passing: rank {} failed to read a hello from pid {}: recvmsg: {}",
                      my_rank, in.creds.pid, errno_text(err));
      if (is_peer_gone_errno(err)) throw PeerGone(text);
      throw EnvironmentError(text);
    }
    // Take ownership of every descriptor that arrived before looking at anything else, so that
    // none leaks whatever happens next.
    std::vector<UniqueFd> arrived;
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
      if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
      const std::size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
      for (std::size_t i = 0; i < count; ++i) {
        int fd = -1;
        std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
        arrived.emplace_back(fd);
      }
    }
    if ((msg.msg_flags & MSG_CTRUNC) != 0) {
      throw EnvironmentError(
          fmt::format("fd passing: rank {} got more descriptors than expected from pid {}", my_rank,
                      in.creds.pid));
    }
    for (auto& fd : arrived) {
      if (in.fd.valid()) {
        throw EnvironmentError(fmt::format(
            "fd passing: rank {} got more than one descriptor from pid {}", my_rank, in.creds.pid));
      }
      in.fd = std::move(fd);
    }
    if (n == 0) {
      throw PeerGone(fmt::format(
          "fd passing: pid {} closed its connection to rank {} after {} of {} hello bytes",
          in.creds.pid, my_rank, in.got, sizeof(FdHello)));
    }
    in.got += static_cast<std::size_t>(n);
    if (in.got == sizeof(FdHello)) return true;
  }
}

/// Checks a complete hello against the exchange; returns the sender's rank.
int accept_hello(const Incoming& in, const FdExchangePeers& peers,
                 const std::vector<UniqueFd>& received) {
  if (in.hello.magic != kHelloMagic) {
    throw EnvironmentError(
        fmt::format("fd passing: rank {} got a malformed hello from pid {} (not a dcpbench peer)",
                    peers.rank, in.creds.pid));
  }
  if (in.hello.token != peers.token) {
    throw EnvironmentError(
        fmt::format("fd passing: rank {} got a hello from pid {} with another job's token",
                    peers.rank, in.creds.pid));
  }
  const int from = in.hello.rank;
  if (auto problem = credential_problem(in.creds, from, peers.rank, peers.uid, peers.pids)) {
    throw EnvironmentError(
        fmt::format("fd passing: rank {} refuses a connection claiming to be rank {}: {}",
                    peers.rank, from, *problem));
  }
  if (received[static_cast<std::size_t>(from)].valid()) {
    throw EnvironmentError(
        fmt::format("fd passing: rank {} got a second descriptor from rank {}", peers.rank, from));
  }
  if (!in.fd.valid()) {
    throw EnvironmentError(fmt::format(
        "fd passing: rank {} got a hello from rank {} without a descriptor", peers.rank, from));
  }
  return from;
}

void send_ack(int sock, int my_rank, int peer) {
  const std::uint8_t ack = kAck;
  // One byte into a fresh socket's empty send buffer: never EAGAIN in practice.
  if (send(sock, &ack, 1, MSG_NOSIGNAL) != 1) {
    const int err = errno;
    const std::string text = fmt::format("fd passing: rank {} cannot acknowledge rank {}: send: {}",
                                         my_rank, peer, errno_text(err));
    if (is_peer_gone_errno(err)) throw PeerGone(text);
    throw EnvironmentError(text);
  }
}

/// Reads the ack of `out`'s peer; returns true once it arrived.
bool read_ack(Outgoing& out, int my_rank) {
  std::uint8_t byte = 0;
  const ssize_t n = recv(out.sock.get(), &byte, 1, 0);
  if (n < 0) {
    const int err = errno;
    if (err == EAGAIN || err == EINTR) return false;
    const std::string msg = fmt::format("fd passing: rank {} lost rank {}'s acknowledgement: {}",
                                        my_rank, out.peer, errno_text(err));
    if (is_peer_gone_errno(err)) throw PeerGone(msg);
    throw EnvironmentError(msg);
  }
  if (n == 0) {
    throw PeerGone(
        fmt::format("fd passing: rank {} closed the connection from rank {} without accepting its "
                    "descriptor (see rank {}'s message)",
                    out.peer, my_rank, out.peer));
  }
  if (byte != kAck) {
    throw EnvironmentError(fmt::format("fd passing: rank {} sent a bad acknowledgement to rank {}",
                                       out.peer, my_rank));
  }
  out.acked = true;
  return true;
}

}  // namespace

std::optional<std::string> credential_problem(const PeerCredentials& peer, int claimed_rank,
                                              int my_rank, uid_t expected_uid,
                                              std::span<const pid_t> job_pids) {
  const int size = static_cast<int>(job_pids.size());
  if (claimed_rank < 0 || claimed_rank >= size) {
    return fmt::format("it claims rank {}, outside the job's ranks [0, {})", claimed_rank, size);
  }
  if (claimed_rank == my_rank) {
    return fmt::format("it claims this rank's own rank {}", claimed_rank);
  }
  if (peer.uid != expected_uid) {
    return fmt::format("it runs as uid {}, but the job runs as uid {}", peer.uid, expected_uid);
  }
  const pid_t expected_pid = job_pids[static_cast<std::size_t>(claimed_rank)];
  if (peer.pid != expected_pid) {
    const bool in_job = std::find(job_pids.begin(), job_pids.end(), peer.pid) != job_pids.end();
    return fmt::format(
        "its pid is {}, but rank {} allgathered pid {}{}", peer.pid, claimed_rank, expected_pid,
        in_job ? " (the pid belongs to another rank of the job)"
               : " (not a process of this job; or the ranks run in different PID namespaces, "
                 "e.g. separate containers, where ipc workspaces cannot be used)");
  }
  return std::nullopt;
}

std::string socket_parent_dir(const char* tmpdir_env) {
  // Longest path that will be built under the parent: "/dcpbench-XXXXXX/fd.sock".
  const std::size_t suffix = 1 + kSocketDirPrefix.size() + 6 + 1 + kSocketName.size();
  if (tmpdir_env != nullptr) {
    std::string dir(tmpdir_env);
    while (dir.size() > 1 && dir.back() == '/')
      dir.pop_back();
    if (!dir.empty() && dir.front() == '/' && dir.size() + suffix <= kMaxSocketPathBytes) {
      return dir == "/" ? std::string() : dir;
    }
  }
  return "/tmp";
}

std::string socket_dir_template(std::string_view parent) {
  return fmt::format("{}/{}XXXXXX", parent, kSocketDirPrefix);
}

FdListener::FdListener(int backlog) {
  const std::string pattern = socket_dir_template(socket_parent_dir(std::getenv("TMPDIR")));
  std::string templ = pattern;  // mkdtemp rewrites it, even when it fails
  if (mkdtemp(templ.data()) == nullptr) {
    const int err = errno;
    throw_sys(fmt::format("mkdtemp(\"{}\") for the private socket directory", pattern), err);
  }
  dir_ = templ;
  dir_created_ = true;
  // If the constructor throws, the destructor does not run: undo the steps done so far.
  struct Cleanup {
    FdListener* self;
    ~Cleanup() {
      if (self != nullptr) self->cleanup();
    }
  } cleanup{this};

  // mkdtemp creates the directory 0700; make sure of it whatever the umask or file system did.
  if (chmod(dir_.c_str(), S_IRWXU) != 0) {
    const int err = errno;
    throw_sys(fmt::format("chmod 0700 {}", dir_), err);
  }
  path_ = dir_ + "/" + std::string(kSocketName);
  const sockaddr_un addr = make_address(path_);
  socket_ = UniqueFd(socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!socket_.valid()) throw_sys("socket(AF_UNIX)", errno);
  if (bind(socket_.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) {
    const int err = errno;
    throw_sys(fmt::format("bind({})", path_), err);
  }
  socket_bound_ = true;
  if (listen(socket_.get(), std::max(backlog, 1)) != 0) {
    const int err = errno;
    throw_sys(fmt::format("listen({})", path_), err);
  }
  cleanup.self = nullptr;
}

FdListener::~FdListener() {
  cleanup();
}

void FdListener::cleanup() noexcept {
  socket_.reset();
  if (socket_bound_) (void)unlink(path_.c_str());
  socket_bound_ = false;
  if (dir_created_) (void)rmdir(dir_.c_str());
  dir_created_ = false;
}

FdExchangePeers gather_fd_exchange_peers(const World& world, const FdListener& listener) {
  struct Entry {
    std::int64_t pid;
    std::int64_t uid;
    std::array<char, kMaxSocketPathBytes + 1> path;
  };
  Entry mine{};
  mine.pid = getpid();
  mine.uid = getuid();
  const std::string& path = listener.path();  // its length was checked by the listener
  std::copy_n(path.begin(), std::min(path.size(), kMaxSocketPathBytes), mine.path.begin());
  const auto all = world.allgather(mine, "fd passing: socket paths");

  std::uint64_t token = 0;
  if (world.rank() == 0) {
    std::random_device rd;
    token = (static_cast<std::uint64_t>(rd()) << 32) ^ rd();
  }
  world.broadcast_bytes(std::as_writable_bytes(std::span(&token, 1)), 0, "fd passing: job token");

  FdExchangePeers peers;
  peers.rank = world.rank();
  peers.size = world.size();
  peers.uid = static_cast<uid_t>(mine.uid);
  peers.token = token;
  for (std::size_t r = 0; r < all.size(); ++r) {
    if (all[r].uid != mine.uid) {
      throw EnvironmentError(fmt::format(
          "fd passing: rank {} runs as uid {} and rank {} as uid {}: the ipc workspace needs "
          "every rank of a host to run as the same user",
          world.rank(), mine.uid, r, all[r].uid));
    }
    peers.pids.push_back(static_cast<pid_t>(all[r].pid));
    peers.paths.emplace_back(all[r].path.data());
  }
  return peers;
}

std::vector<UniqueFd> exchange_fds(const FdListener& listener, const FdExchangePeers& peers,
                                   int my_fd, double timeout_s) {
  DCP_CHECK(peers.rank >= 0 && peers.rank < peers.size &&
                static_cast<int>(peers.pids.size()) == peers.size &&
                static_cast<int>(peers.paths.size()) == peers.size,
            "fd passing: inconsistent FdExchangePeers");
  const auto deadline = deadline_after(timeout_s);
  std::vector<UniqueFd> received(static_cast<std::size_t>(peers.size));
  const int expected = peers.size - 1;

  // 1. Send: connect to every other rank and send the hello with the descriptor. Never waits on
  //    a peer (its listener's backlog holds the connection until it accepts).
  std::vector<Outgoing> outgoing;
  for (int step = 1; step < peers.size; ++step) {
    const int peer = (peers.rank + step) % peers.size;  // staggered: not everyone on rank 0 first
    outgoing.push_back(connect_and_send(peers, peer, my_fd, deadline));
  }

  // 2. Serve: accept connections, read hellos, acknowledge them; read the peers' acks. Every
  //    socket is non-blocking, so each round simply tries everything and then polls to wait.
  std::vector<Incoming> incoming;
  int done_in = 0;
  int done_out = 0;
  for (;;) {
    for (;;) {
      UniqueFd sock(accept4(listener.fd(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
      if (!sock.valid()) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR || errno == ECONNABORTED) {
          break;
        }
        throw_sys("accept4", errno);
      }
      Incoming in;
      in.creds = peer_credentials(sock.get());
      in.sock = std::move(sock);
      incoming.push_back(std::move(in));
    }
    std::vector<Incoming> still_open;
    for (auto& in : incoming) {
      if (read_hello(in, peers.rank)) {
        const int from = accept_hello(in, peers, received);
        send_ack(in.sock.get(), peers.rank, from);
        received[static_cast<std::size_t>(from)] = std::move(in.fd);
        ++done_in;  // the connection closes as `in` goes away
      } else {
        still_open.push_back(std::move(in));
      }
    }
    incoming = std::move(still_open);
    for (auto& out : outgoing) {
      if (!out.acked && read_ack(out, peers.rank)) {
        ++done_out;
        out.sock.reset();
      }
    }
    if (done_in == expected && done_out == expected) break;

    if (Clock::now() > deadline) {
      std::vector<int> no_fd_from;
      for (int r = 0; r < peers.size; ++r) {
        if (r != peers.rank && !received[static_cast<std::size_t>(r)].valid()) {
          no_fd_from.push_back(r);
        }
      }
      std::vector<int> no_ack_from;
      for (const auto& out : outgoing) {
        if (!out.acked) no_ack_from.push_back(out.peer);
      }
      throw TimeoutError(fmt::format(
          "fd passing: rank {} timed out after {} s; no descriptor from rank(s) [{}], no "
          "acknowledgement from rank(s) [{}] (a rank failed or never started the exchange)",
          peers.rank, timeout_s, rank_list(no_fd_from), rank_list(no_ack_from)));
    }
    std::vector<pollfd> fds;
    fds.push_back(pollfd{listener.fd(), POLLIN, 0});
    for (const auto& in : incoming)
      fds.push_back(pollfd{in.sock.get(), POLLIN, 0});
    for (const auto& out : outgoing) {
      if (!out.acked) fds.push_back(pollfd{out.sock.get(), POLLIN, 0});
    }
    if (poll(fds.data(), fds.size(), poll_ms(deadline)) < 0 && errno != EINTR) {
      throw_sys("poll", errno);
    }
  }
  return received;
}

SharedFds share_fd(const World& world, int my_fd) {
  constexpr std::string_view kContext = "workspace ipc";
  // Each step is agreed before the next collective, so that every rank issues the same sequence
  // of collectives whatever fails where.
  std::optional<FdListener> listener;
  agree_or_throw(world, attempt([&] { listener.emplace(world.size()); }), kContext,
                 "creating the private Unix socket");
  // Its errors (different users) follow from gathered data, so every rank throws alike.
  const FdExchangePeers peers = gather_fd_exchange_peers(world, *listener);
  SharedFds out;
  out.socket_dir = listener->dir();

  // 0 = done, 1 = failed because a peer went away, 2 = failed on its own.
  std::int32_t severity = 0;
  std::exception_ptr error;
  std::string error_text;
  try {
    out.by_rank = exchange_fds(*listener, peers, my_fd, world.timeout_s());
  } catch (const PeerGone& e) {
    severity = 1;
    error = std::current_exception();
    error_text = e.what();
  } catch (const Error& e) {
    severity = 2;
    error = std::current_exception();
    error_text = e.what();
  }
  listener.reset();                // socket and directory gone before anything else can fail
  if (error) out.by_rank.clear();  // close whatever arrived

  const auto all = world.allgather(severity, "fd passing: outcome");
  std::vector<int> failed;
  std::vector<int> causes;
  for (std::size_t r = 0; r < all.size(); ++r) {
    if (all[r] > 0) failed.push_back(static_cast<int>(r));
    if (all[r] > 1) causes.push_back(static_cast<int>(r));
  }
  if (failed.empty()) return out;
  if (severity == 2 || causes.empty()) {
    if (error) std::rethrow_exception(error);
    throw EnvironmentError(
        fmt::format("{}: passing the POSIX fds failed on rank(s) {}", kContext, rank_list(failed)));
  }
  // This rank failed only because a peer went away, or did not fail: name the cause.
  throw EnvironmentError(fmt::format(
      "{}: passing the POSIX fds failed on rank(s) {} (see that rank's message){}", kContext,
      rank_list(causes), error_text.empty() ? std::string() : "; on this rank: " + error_text));
}

}  // namespace dcp::fabric
