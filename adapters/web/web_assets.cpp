#include "adapters/web/web_assets.h"

#include <string>
#include <vector>

namespace gh::web {
namespace {

bool ends_with(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

struct Table {
  std::vector<std::string> etags;  // owns the quoted tags the assets point into
  std::vector<Asset> assets;
};

// Built once, on first use (thread-safe static initialisation).
const Table& table() {
  static const Table built = [] {
    Table t;
    t.etags.reserve(kEmbeddedFileCount);
    for (size_t i = 0; i < kEmbeddedFileCount; ++i) {
      t.etags.push_back("\"" + std::string(kEmbeddedFiles[i].sha256_prefix) + "\"");
    }
    for (size_t i = 0; i < kEmbeddedFileCount; ++i) {
      const EmbeddedFile& file = kEmbeddedFiles[i];
      t.assets.push_back({file.name, content_type_for(file.name),
                          std::string_view(reinterpret_cast<const char*>(file.bytes), file.size),
                          t.etags[i]});
    }
    return t;
  }();
  return built;
}

}  // namespace

std::string_view content_type_for(std::string_view name) {
  if (ends_with(name, ".html")) return "text/html; charset=utf-8";
  if (ends_with(name, ".js")) return "text/javascript; charset=utf-8";
  if (ends_with(name, ".css")) return "text/css; charset=utf-8";
  if (ends_with(name, ".svg")) return "image/svg+xml";
  if (ends_with(name, ".png")) return "image/png";
  if (ends_with(name, ".ico")) return "image/x-icon";
  if (ends_with(name, ".json")) return "application/json";
  if (ends_with(name, ".txt")) return "text/plain; charset=utf-8";
  return "application/octet-stream";
}

const Asset* find_asset(std::string_view name) {
  for (const Asset& asset : table().assets) {
    if (asset.name == name) return &asset;
  }
  return nullptr;
}

}  // namespace gh::web
