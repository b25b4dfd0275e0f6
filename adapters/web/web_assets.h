// The web console's files (adapters/web/static/), embedded into the binary at build time
// by embed_files.cmake: the server serves them from memory and needs nothing on disk.
//
// Thread-safety: everything here is immutable static data.
#pragma once

#include <cstddef>
#include <string_view>

namespace gh::web {

// One embedded file, as the generated web_assets_data.cpp lists it.
struct EmbeddedFile {
  const char* name;            // file name inside static/, e.g. "app.js"
  const unsigned char* bytes;  // its contents (followed by one 0 byte, not counted)
  size_t size;                 // in bytes
  const char* sha256_prefix;   // first 16 hex digits of SHA-256 of the contents
};

extern const EmbeddedFile kEmbeddedFiles[];
extern const size_t kEmbeddedFileCount;

// A file ready to serve.
struct Asset {
  std::string_view name;
  std::string_view content_type;  // from the extension; "application/octet-stream" if unknown
  std::string_view bytes;
  std::string_view etag;  // a strong HTTP entity tag, quotes included: "\"<sha256 prefix>\""
};

// The file called `name` ("index.html", "app.js"), or nullptr when there is none. Names
// never contain '/': there are no directories.
const Asset* find_asset(std::string_view name);

// The Content-Type for a file name by its extension (.html, .js, .css, .svg, .png, .ico,
// .json, .txt); "application/octet-stream" otherwise.
std::string_view content_type_for(std::string_view name);

}  // namespace gh::web
