// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "postern/utf8.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace postern::mime {

/// The replacement character U+FFFD in UTF-8.
inline constexpr std::string_view replacement_character = "\xEF\xBF\xBD";

// The validator and the code point count are core's (postern/utf8.hpp).
using postern::count_code_points;
using postern::is_valid_utf8;

/// Appends the UTF-8 encoding of a code point; surrogates and values above
/// U+10FFFF become U+FFFD.
void append_utf8(std::string& out, uint32_t code_point);

/// Returns `bytes` with every ill-formed UTF-8 sequence replaced by U+FFFD.
/// This is the last step before any mail-derived string reaches JSON.
std::string to_valid_utf8(std::string_view bytes);

/// Converts text in `charset` (a MIME charset name, any case, aliases such
/// as "latin1" or "x-sjis" accepted) to valid UTF-8. Bytes that do not decode
/// become U+FFFD. An empty, ASCII or unknown charset means "whatever the
/// bytes are": UTF-8 when they are valid UTF-8, else Windows-1252, the most
/// common undeclared 8-bit charset in mail. Never fails.
///
/// Bounds: one pass (iconv, or a table), time and memory O(input); the
/// result is at most 4 bytes per input byte (3 for every byte that does
/// not decode), so a capped input gives a capped output.
std::string to_utf8(std::string_view bytes, std::string_view charset);

/// Whether `charset` names an encoding `to_utf8` can convert from (after
/// alias mapping); false for empty or unknown names.
bool is_known_charset(std::string_view charset);

/// Truncates `text` (valid UTF-8) to at most `max_bytes` bytes without
/// cutting a character in half.
std::string_view truncate_utf8(std::string_view text,
                               size_t max_bytes) noexcept;

/// Returns the code points [offset, offset + count) of valid UTF-8 `text`
/// (clamped to its end).
std::string_view slice_code_points(std::string_view text, size_t offset,
                                   size_t count) noexcept;

} // namespace postern::mime
