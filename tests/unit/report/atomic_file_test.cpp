// write_file_atomically: all or nothing, errors name the path.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "report/atomic_file.hpp"
#include "report/report_error.hpp"

namespace dcp::report {
namespace {

namespace fs = std::filesystem;

class AtomicFile : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("dcp_atomic_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  static std::string read(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  std::size_t entries() const {
    return static_cast<std::size_t>(std::distance(fs::directory_iterator(dir_), {}));
  }

  fs::path dir_;
};

TEST_F(AtomicFile, WritesAndReplaces) {
  const std::string path = (dir_ / "out.json").string();
  write_file_atomically(path, [](std::ostream& os) { os << "first\n"; });
  EXPECT_EQ(read(path), "first\n");
  write_file_atomically(path, [](std::ostream& os) { os << "second\n"; });
  EXPECT_EQ(read(path), "second\n");
  EXPECT_EQ(entries(), 1u);  // no temporary file left behind
}

TEST_F(AtomicFile, ThrowingWriterLeavesTargetUntouched) {
  const std::string path = (dir_ / "out.json").string();
  write_file_atomically(path, [](std::ostream& os) { os << "precious\n"; });
  EXPECT_THROW(write_file_atomically(path,
                                     [](std::ostream& os) {
                                       os << "half a report";
                                       throw std::runtime_error("writer failed");
                                     }),
               std::runtime_error);
  EXPECT_EQ(read(path), "precious\n");
  EXPECT_EQ(entries(), 1u);
}

TEST_F(AtomicFile, ThrowingWriterCreatesNothing) {
  const std::string path = (dir_ / "never.json").string();
  EXPECT_THROW(write_file_atomically(path, [](std::ostream&) { throw std::logic_error("x"); }),
               std::logic_error);
  EXPECT_FALSE(fs::exists(path));
  EXPECT_EQ(entries(), 0u);
}

TEST_F(AtomicFile, FailedStreamIsAnError) {
  const std::string path = (dir_ / "bad.json").string();
  EXPECT_THROW(write_file_atomically(path, [](std::ostream& os) { os.setstate(std::ios::badbit); }),
               ReportError);
  EXPECT_FALSE(fs::exists(path));
}

TEST_F(AtomicFile, MissingDirectoryNamesThePath) {
  const std::string path = (dir_ / "no" / "such" / "dir" / "out.json").string();
  try {
    write_file_atomically(path, [](std::ostream& os) { os << "x"; });
    FAIL() << "no error";
  } catch (const ReportError& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
    EXPECT_EQ(e.exit_code(), ExitCode::kUsage);
  }
}

TEST_F(AtomicFile, TargetThatIsADirectoryIsAnError) {
  fs::create_directories(dir_ / "sub");
  fs::create_directories(dir_ / "sub" / "inner");
  const std::string path = (dir_ / "sub").string();
  try {
    write_file_atomically(path, [](std::ostream& os) { os << "x"; });
    FAIL() << "no error";
  } catch (const ReportError& e) {
    EXPECT_NE(std::string(e.what()).find("rename"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(fs::is_directory(path));
  EXPECT_EQ(entries(), 1u);  // the temporary file was removed
  EXPECT_THROW(write_file_atomically("", [](std::ostream& os) { os << "x"; }), ReportError);
  EXPECT_THROW(write_file_atomically((dir_ / "..").string(), [](std::ostream& os) { os << "x"; }),
               ReportError);
}

TEST_F(AtomicFile, NewFileHonoursUmask) {
  const ::mode_t old = ::umask(022);
  const std::string path = (dir_ / "mode.txt").string();
  write_file_atomically(path, [](std::ostream& os) { os << "x"; });
  ::umask(old);
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0644u);
}

// Writing a report to /dev/null (a way to discard it) must not rename a temporary file over the
// device node: as root that would replace /dev/null with a regular file.
TEST_F(AtomicFile, SpecialFileIsWrittenInPlace) {
  struct stat before {};
  ASSERT_EQ(::stat("/dev/null", &before), 0);
  ASSERT_TRUE(S_ISCHR(before.st_mode));
  write_file_atomically("/dev/null", [](std::ostream& os) { os << "discarded\n"; });
  struct stat after {};
  ASSERT_EQ(::stat("/dev/null", &after), 0);
  EXPECT_TRUE(S_ISCHR(after.st_mode));
  EXPECT_EQ(before.st_rdev, after.st_rdev);
  EXPECT_EQ(before.st_ino, after.st_ino);
}

}  // namespace
}  // namespace dcp::report
