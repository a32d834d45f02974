// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

// The bounds every decoder keeps, whatever a stranger's mail looks like
// (issue 14): time and memory linear in the input, output capped, nesting
// flattened beyond a fixed depth, and a short notice where text was cut.

namespace postern::mime {

/// The most text one decoder writes for one part or one message (HTML to
/// text, transfer decoding, quoting): 4 MiB, the largest part Postern
/// reads, so real mail is never cut.
inline constexpr size_t max_text_bytes = size_t{4} << 20;

/// The most bytes of one decoded header value or MIME parameter.
inline constexpr size_t max_header_bytes = size_t{64} << 10;

/// Nesting beyond this depth (lists, quotes, MIME parts) is flattened:
/// its content is kept, at the depth of the last level.
inline constexpr size_t max_nesting = 32;

/// The most text parts of one message that are read as its text; the
/// others are listed as attachments.
inline constexpr size_t max_text_parts = 100;

/// The most attachments listed for one message.
inline constexpr size_t max_attachments = 1000;

/// The short notice put where a decoder cut something: "[… cut: what]".
inline std::string cut_notice(std::string_view what) {
  std::string text = "[\xE2\x80\xA6 cut: ";
  text += what;
  text += ']';
  return text;
}

} // namespace postern::mime
