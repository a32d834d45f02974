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
///
/// Bounds (issue 14): one pass, time and memory O(input); the text is at
/// most `max_text_bytes` (then cut at a character with a "[… cut: …]"
/// notice); lists deeper than `max_nesting` are indented as at that
/// depth; a link inside a link ends the first (as in HTML), so no label is
/// copied twice; a character reference is looked for in 33 bytes only.
std::string html_to_text(std::string_view html);

/// Returns the charset an HTML document declares in its first 4 KiB
/// (`<meta charset=...>` or `<meta http-equiv=... content="...charset=...">`),
/// or an empty string.
std::string sniff_html_charset(std::string_view html);

} // namespace postern::mime
