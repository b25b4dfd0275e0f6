// The signing key file: created 0600 from its first byte whatever the umask (no window in
// which another user could read it), read back unchanged, narrowed when an older file is
// readable by others, and replaced when its length is wrong.
#include "adapters/http/secret_file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace gh::http {
namespace {

namespace fs = std::filesystem;

class SecretFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("gh-secret-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    path_ = (dir_ / "url-signing.key").string();
  }
  void TearDown() override { fs::remove_all(dir_); }
  mode_t mode() const {
    struct stat info {};
    EXPECT_EQ(::stat(path_.c_str(), &info), 0);
    return info.st_mode & 0777;
  }

  fs::path dir_;
  std::string path_;
};

TEST_F(SecretFileTest, CreatedOwnerOnlyEvenWithAnOpenUmask) {
  // With umask 0, a file created with the default mode 0666 and chmod'ed afterwards would
  // be world-readable until the chmod: created 0600 there is no such moment.
  const mode_t old = ::umask(0);
  auto key = load_or_create_secret(path_, 32);
  ::umask(old);
  ASSERT_TRUE(key.is_ok()) << key.status().to_string();
  EXPECT_EQ(key->size(), 32u);
  EXPECT_EQ(mode(), 0600u);
  // No temporary file is left behind.
  size_t files = 0;
  for ([[maybe_unused]] const auto& entry : fs::directory_iterator(dir_)) ++files;
  EXPECT_EQ(files, 1u);
  // Read back unchanged.
  auto again = load_or_create_secret(path_, 32);
  ASSERT_TRUE(again.is_ok());
  EXPECT_EQ(*again, *key);
}

TEST_F(SecretFileTest, AnOldReadableKeyIsNarrowedAndAWrongLengthReplaced) {
  {
    std::ofstream out(path_, std::ios::binary);
    out << std::string(32, 'k');
  }
  ASSERT_EQ(::chmod(path_.c_str(), 0644), 0);
  auto kept = load_or_create_secret(path_, 32);
  ASSERT_TRUE(kept.is_ok());
  EXPECT_EQ(*kept, std::string(32, 'k'));
  EXPECT_EQ(mode(), 0600u);

  {
    std::ofstream out(path_, std::ios::binary | std::ios::trunc);
    out << "short";
  }
  auto replaced = load_or_create_secret(path_, 32);
  ASSERT_TRUE(replaced.is_ok());
  EXPECT_EQ(replaced->size(), 32u);
  EXPECT_NE(*replaced, std::string(32, 'k'));
  EXPECT_EQ(mode(), 0600u);
}

}  // namespace
}  // namespace gh::http
