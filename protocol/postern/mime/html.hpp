// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <string>
#include <string_view>

namespace postern::mime {

/// Converts an HTML mail body (UTF-8) to readable plain text for an agent:
/// block elements become line breaks, list items start with "- ", links
/// read "text (url)", images with alt text read "[alt]", table cells are
/// separated by spaces, <pre> keeps its layout, scripts/styles/head are
/// dropped, character references are decoded and invisible spacer
/// characters removed. The result is valid UTF-8.
std::string html_to_text(std::string_view html);

/// Returns the charset an HTML document declares in its first 4 KiB
/// (`<meta charset=...>` or `<meta http-equiv=... content="...charset=...">`),
/// or an empty string.
std::string sniff_html_charset(std::string_view html);

} // namespace postern::mime
