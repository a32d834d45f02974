// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <optional>
#include <string_view>
#include <utility>
#include <vector>

namespace postern::ui {

/// A file from ui/assets/, embedded into the binary at build time.
struct asset {
  /// Path below ui/assets/, e.g. "static/postern.css".
  std::string_view path;
  /// The file's bytes.
  std::string_view content;
  /// MIME type derived from the extension.
  std::string_view content_type;
};

/// Looks up an embedded file by its path below ui/assets/.
std::optional<asset> find_asset(std::string_view path);

namespace detail {

/// All embedded files, sorted by path (generated).
extern const std::vector<std::pair<std::string_view, std::string_view>> assets;

} // namespace detail

} // namespace postern::ui
