#include "report/atomic_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <sstream>
#include <string_view>

#include "report/report_error.hpp"

namespace dcp::report {

namespace {

std::string errno_text(int err) {
  return std::strerror(err);
}

/// Closes the descriptor and removes the temporary file unless released.
class TempFile {
 public:
  TempFile(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  ~TempFile() {
    if (fd_ >= 0) ::close(fd_);
    if (!path_.empty()) ::unlink(path_.c_str());
  }
  [[nodiscard]] int fd() const { return fd_; }
  [[nodiscard]] const std::string& path() const { return path_; }
  /// Closes the descriptor; returns errno of a failed close, 0 on success.
  int close() {
    const int rc = ::close(fd_);
    fd_ = -1;
    return rc == 0 ? 0 : errno;
  }
  /// After a successful rename: nothing left to remove.
  void release() { path_.clear(); }

 private:
  int fd_;
  std::string path_;
};

void write_all(int fd, std::string_view data, const std::string& target, const std::string& tmp) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      throw ReportError(fmt::format("cannot write '{}': writing the temporary file '{}' failed: {}",
                                    target, tmp, errno_text(errno)));
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
}

}  // namespace

void require_writable(const std::string& path, std::string_view field) {
  namespace fs = std::filesystem;
  if (path.empty()) throw ConfigError(fmt::format("{}: empty file name", field));
  const fs::path target(path);
  const fs::path parent = target.parent_path();
  const std::string dir = parent.empty() ? std::string(".") : parent.string();
  std::error_code ec;
  if (!fs::is_directory(dir, ec) || ::access(dir.c_str(), W_OK) != 0) {
    throw ConfigError(fmt::format(
        "{}: cannot write '{}': folder '{}' does not exist or is not writable", field, path, dir));
  }
  if (fs::is_directory(target, ec)) {
    throw ConfigError(fmt::format("{}: cannot write '{}': it is a folder", field, path));
  }
}

void write_file_atomically(const std::string& path,
                           const std::function<void(std::ostream&)>& writer) {
  if (path.empty()) throw ReportError("cannot write a file with an empty path");
  namespace fs = std::filesystem;
  const fs::path target(path);
  const fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
  const std::string name = target.filename().string();
  if (name.empty() || name == "." || name == "..") {
    throw ReportError(fmt::format("cannot write '{}': the path names a directory", path));
  }

  // Render first: a writer that throws leaves no trace on disk.
  std::ostringstream buffer;
  writer(buffer);
  if (!buffer) {
    throw ReportError(fmt::format("cannot write '{}': the output stream failed", path));
  }
  const std::string bytes = std::move(buffer).str();

  // A target that exists and is not a regular file (/dev/null, /dev/stdout, a FIFO) is written
  // in place: renaming a temporary file over it would replace the device node itself.
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) {
    const int special = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
    if (special < 0) {
      throw ReportError(fmt::format("cannot write '{}': {}", path, errno_text(errno)));
    }
    TempFile sink(special, std::string());
    write_all(sink.fd(), bytes, path, path);
    if (const int err = sink.close(); err != 0) {
      throw ReportError(fmt::format("cannot write '{}': close failed: {}", path, errno_text(err)));
    }
    sink.release();
    return;
  }

  static std::atomic<unsigned> counter{0};
  int fd = -1;
  std::string tmp;
  for (int attempt = 0; attempt < 100 && fd < 0; ++attempt) {
    tmp = (dir / fmt::format(".{}.tmp.{}.{}", name, ::getpid(), counter.fetch_add(1))).string();
    fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0 && errno != EEXIST) {
      throw ReportError(fmt::format("cannot write '{}': cannot create a temporary file in '{}': {}",
                                    path, dir.string(), errno_text(errno)));
    }
  }
  if (fd < 0) {
    throw ReportError(
        fmt::format("cannot write '{}': no free temporary file name in '{}'", path, dir.string()));
  }
  TempFile file(fd, tmp);
  write_all(file.fd(), bytes, path, tmp);
  if (::fsync(file.fd()) != 0) {
    throw ReportError(fmt::format("cannot write '{}': fsync of the temporary file failed: {}", path,
                                  errno_text(errno)));
  }
  if (const int err = file.close(); err != 0) {
    throw ReportError(fmt::format("cannot write '{}': closing the temporary file failed: {}", path,
                                  errno_text(err)));
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    throw ReportError(fmt::format("cannot write '{}': rename from '{}' failed: {}", path, tmp,
                                  errno_text(errno)));
  }
  file.release();
  // Make the rename itself durable; a failure here loses nothing already visible.
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    (void)::fsync(dfd);
    ::close(dfd);
  }
}

}  // namespace dcp::report
