// SPDX-License-Identifier: Apache-2.0
#include "postern/ui/assets.hpp"

#include <algorithm>

namespace postern::ui {

namespace {

std::string_view content_type_of(std::string_view path) {
  auto ends_with = [&](std::string_view suffix) {
    return path.size() >= suffix.size()
           && path.substr(path.size() - suffix.size()) == suffix;
  };
  if (ends_with(".css"))
    return "text/css; charset=utf-8";
  if (ends_with(".js"))
    return "text/javascript; charset=utf-8";
  if (ends_with(".html"))
    return "text/html; charset=utf-8";
  if (ends_with(".svg"))
    return "image/svg+xml";
  if (ends_with(".png"))
    return "image/png";
  if (ends_with(".ico"))
    return "image/x-icon";
  return "application/octet-stream";
}

} // namespace

std::optional<asset> find_asset(std::string_view path) {
  auto i = std::lower_bound(detail::assets.begin(), detail::assets.end(), path,
                            [](const auto& entry, std::string_view key) {
                              return entry.first < key;
                            });
  if (i == detail::assets.end() || i->first != path)
    return std::nullopt;
  return asset{i->first, i->second, content_type_of(path)};
}

} // namespace postern::ui
