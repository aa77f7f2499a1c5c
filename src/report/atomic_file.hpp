#pragma once
/// @file
/// Writing an output file so that readers never see half of it.

#include <functional>
#include <iosfwd>
#include <string>
#include <string_view>

namespace dcp::report {

/// Checks, before any work, that write_file_atomically(path) can succeed as far as the file
/// system can tell: the folder exists and is writable, and `path` is not a folder. Throws
/// ConfigError "<field>: cannot write '<path>': ..." (exit 2). Used for every output flag
/// (run's --json/--csv, diag's --json) before MPI starts.
void require_writable(const std::string& path, std::string_view field);

/// Writes a file atomically: `writer` fills an in-memory stream, whose bytes go to a temporary
/// file in the same directory as `path` (".<name>.tmp.<pid>.<n>"), which is flushed, fsync'ed
/// and renamed over `path`; the directory is then fsync'ed (best effort).
///
/// On any failure (the writer throws, the stream goes bad, open/write/fsync/rename fails) the
/// temporary file is removed, `path` is left as it was, and the error propagates: the writer's
/// own exception unchanged, an I/O failure as a ReportError naming `path` and the reason
/// (strerror). The new file gets mode 0666 & ~umask, like a file opened with std::ofstream.
void write_file_atomically(const std::string& path,
                           const std::function<void(std::ostream&)>& writer);

}  // namespace dcp::report
