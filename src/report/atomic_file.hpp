#pragma once
/// @file
/// Writing an output file so that readers never see half of it.

#include <functional>
#include <iosfwd>
#include <string>

namespace dcp::report {

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
