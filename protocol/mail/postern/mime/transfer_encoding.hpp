// SPDX-License-Identifier: Apache-2.0
#pragma once

// Bounds of the decoders here: one pass, time and memory O(input), and the
// output is never larger than the input (base64 and quoted-printable only
// shrink), so they need no cap of their own: what is fetched is capped.

#include <optional>
#include <string>
#include <string_view>

namespace postern::mime {

/// Decodes base64, skipping line breaks and any other non-alphabet bytes,
/// and ignoring a trailing partial group (as left by a partial FETCH).
std::string decode_base64(std::string_view text);

/// Decodes strict base64 (RFC 4648: the standard alphabet, padding to a
/// multiple of 4 characters, nothing else; whitespace and line breaks are
/// tolerated); nullopt for anything else.
std::optional<std::string> decode_base64_strict(std::string_view text);

/// Encodes `bytes` as base64; with `line_length` > 0, inserts CRLF after
/// every `line_length` characters (76 for MIME bodies).
std::string encode_base64(std::string_view bytes, size_t line_length = 0);

/// Decodes quoted-printable (RFC 2045 6.7): soft line breaks removed, `=XX`
/// decoded, malformed escapes kept literally.
std::string decode_quoted_printable(std::string_view text);

/// Encodes UTF-8 text as quoted-printable with CRLF line ends and lines of at
/// most 76 characters; bare LF and CR in the input become CRLF.
std::string encode_quoted_printable(std::string_view text);

/// Undoes a Content-Transfer-Encoding ("base64", "quoted-printable"; the
/// identity encodings and unknown names return the bytes as they are).
std::string decode_transfer_encoding(std::string_view data,
                                     std::string_view encoding);

} // namespace postern::mime
