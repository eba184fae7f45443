// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// The race page's files (examples/horse_race/web/), compiled into the
// binary: the build generates race_web_assets.cc from them
// (cmake/embed_files.cmake), so the page needs no file and no network.
#pragma once

#include <span>
#include <string_view>

namespace streamml::demo {

struct WebAsset {
  std::string_view path;          // URL path, e.g. "/app.js" ("/index.html" is also "/")
  std::string_view content_type;  // e.g. "text/javascript; charset=utf-8"
  std::string_view body;          // the file's bytes
};

// Every file of the page, in name order.
std::span<const WebAsset> race_web_assets();

}  // namespace streamml::demo
