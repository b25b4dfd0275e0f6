// The embedded web console: every file in adapters/web/static/ that the build lists is in
// the binary byte for byte, with its type and an ETag that changes with its contents.
#include "adapters/web/web_assets.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <string>

namespace gh::web {
namespace {

namespace fs = std::filesystem;

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

TEST(WebAssetsTest, EveryEmbeddedFileEqualsItsSource) {
  ASSERT_GT(kEmbeddedFileCount, 0u);
  const fs::path dir = fs::path(GH_SOURCE_DIR) / "adapters/web/static";
  for (size_t i = 0; i < kEmbeddedFileCount; ++i) {
    const std::string name = kEmbeddedFiles[i].name;
    const Asset* asset = find_asset(name);
    ASSERT_NE(asset, nullptr) << name;
    EXPECT_EQ(asset->bytes, read_file(dir / name)) << name;
    EXPECT_EQ(asset->etag, "\"" + std::string(kEmbeddedFiles[i].sha256_prefix) + "\"");
    EXPECT_EQ(asset->etag.size(), 18u) << name;
  }
}

TEST(WebAssetsTest, EveryStaticFileIsEmbedded) {
  // A file added to static/ but not to adapters/web/CMakeLists.txt would be missing at run
  // time; this catches it at test time.
  const fs::path dir = fs::path(GH_SOURCE_DIR) / "adapters/web/static";
  for (const auto& entry : fs::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    EXPECT_NE(find_asset(name), nullptr) << name << " is not listed in adapters/web/CMakeLists.txt";
  }
}

TEST(WebAssetsTest, TheConsoleHasItsEntryPoints) {
  const Asset* index = find_asset("index.html");
  ASSERT_NE(index, nullptr);
  EXPECT_EQ(index->content_type, "text/html; charset=utf-8");
  EXPECT_NE(index->bytes.find("/web/app.js"), std::string_view::npos);
  ASSERT_NE(find_asset("app.js"), nullptr);
  EXPECT_EQ(find_asset("app.js")->content_type, "text/javascript; charset=utf-8");
  EXPECT_EQ(find_asset("style.css")->content_type, "text/css; charset=utf-8");
}

TEST(WebAssetsTest, DistinctFilesHaveDistinctTags) {
  std::set<std::string_view> tags;
  for (size_t i = 0; i < kEmbeddedFileCount; ++i) {
    tags.insert(find_asset(kEmbeddedFiles[i].name)->etag);
  }
  EXPECT_EQ(tags.size(), kEmbeddedFileCount);
}

TEST(WebAssetsTest, UnknownNamesAreNotFound) {
  EXPECT_EQ(find_asset(""), nullptr);
  EXPECT_EQ(find_asset("nope.js"), nullptr);
  EXPECT_EQ(find_asset("../CMakeLists.txt"), nullptr);
  EXPECT_EQ(find_asset("APP.JS"), nullptr);
}

TEST(WebAssetsTest, ContentTypesByExtension) {
  EXPECT_EQ(content_type_for("a.svg"), "image/svg+xml");
  EXPECT_EQ(content_type_for("a.png"), "image/png");
  EXPECT_EQ(content_type_for("a.json"), "application/json");
  EXPECT_EQ(content_type_for("a.js.map"), "application/octet-stream");
  EXPECT_EQ(content_type_for("js"), "application/octet-stream");
}

}  // namespace
}  // namespace gh::web
