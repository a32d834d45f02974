// SPDX-License-Identifier: Apache-2.0
#pragma once

// Small ASCII helpers for protocol text (HTTP header values, cookie pairs,
// configuration words, host names), where case and white space rules are
// ASCII-only by specification. Not for user text: that is UTF-8 and needs
// postern/utf8.hpp.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace postern {

/// `s` without leading and trailing spaces and tabs (HTTP's optional white
/// space, RFC 9110 §5.6.3).
std::string_view trim_blanks(std::string_view s) noexcept;

/// The domain of an email address (after its last "@"), in lower case;
/// empty when it has none.
std::string address_domain(std::string_view address);

/// `s` with A–Z turned into a–z; every other byte unchanged.
std::string ascii_lower(std::string_view s);

/// Appends `text` with & < > " ' ` = written as character references, so
/// that it is inert both as HTML text and inside a quoted or unquoted
/// attribute value (the dashboard's templates and the HTML of replies).
void append_html_escaped(std::string& out, std::string_view text);

/// The non-empty pieces of `text` between any of the bytes in
/// `separators` (lists stored space-joined, lists a person typed).
std::vector<std::string_view> split_words(std::string_view text,
                                          std::string_view separators = " ");

/// A TCP port written in decimal (1–65535, at most five digits, nothing
/// else), or nullopt: configuration words, form fields, autoconfig files.
std::optional<uint16_t> parse_port(std::string_view text) noexcept;

/// The value of a hexadecimal digit (either case), or -1.
int hex_digit(char c) noexcept;

/// `text` with every byte but the unreserved characters of RFC 3986
/// (letters, digits, - . _ ~) written as %XX (upper-case hex).
std::string percent_encode(std::string_view text);

/// `text` with its %XX escapes decoded, or nullopt when a `%` is not
/// followed by two hex digits or a byte outside `allowed` (besides `%`)
/// appears unescaped: for identifiers inside URIs, where a malformed
/// escape is an error rather than text to keep.
std::optional<std::string>
percent_decode_strict(std::string_view text, std::string_view allowed);

} // namespace postern
