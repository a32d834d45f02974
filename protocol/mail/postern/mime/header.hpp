// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace postern::mime {

/// A MIME parameter as it appears on the wire (or in an IMAP BODYSTRUCTURE):
/// name and unquoted value, nothing decoded yet.
using parameter = std::pair<std::string, std::string>;

/// Decodes a header value for display: unfolds it, decodes RFC 2047 encoded
/// words (B and Q, any charset; adjacent words of one charset are joined
/// before conversion so a character split across words survives), and treats
/// raw 8-bit bytes as UTF-8 when valid, else Windows-1252. Malformed encoded
/// words stay as they are. Control characters become spaces. The result is
/// valid UTF-8.
///
/// Bounds: reads the first `max_header_bytes` of `raw` only; time and
/// memory linear in those (each byte is scanned a constant number of times
/// however many broken "=?" start in it); the result is at most
/// `max_header_bytes` plus a "[… cut: …]" notice when something was cut.
std::string decode_header(std::string_view raw);

/// Encodes a UTF-8 header value (an unstructured text such as a Subject or
/// a display name) for an RFC 5322 header: returned unchanged when it is
/// printable ASCII without "=?", else as RFC 2047 "B" encoded words of at
/// most 75 characters, joined by CRLF SP (folded), never splitting a
/// character. CR and LF in the input are replaced by spaces.
std::string encode_header(std::string_view utf8);

/// Finds parameter `name` (case-insensitive) and decodes its value: RFC 2231
/// extended values (`name*=charset'lang'%XX`) and continuations (`name*0*`,
/// `name*1`, ...) take precedence over a plain `name`, whose value may be
/// RFC 2047 encoded (common, though not allowed). Returns valid UTF-8, or
/// nullopt if the parameter is absent.
///
/// Bounds: time O(parameters' bytes + k log k) for k continuations (at most
/// 10 000: section numbers have four digits); the value is at most
/// `max_header_bytes` plus a "[… cut: …]" notice when it was longer.
std::optional<std::string> find_parameter(const std::vector<parameter>& params,
                                          std::string_view name);

/// Case-insensitive ASCII comparison.
bool iequals(std::string_view x, std::string_view y) noexcept;

/// Lowercases ASCII letters.
std::string to_lower(std::string_view x);

} // namespace postern::mime
