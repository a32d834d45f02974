// SPDX-License-Identifier: Apache-2.0
#pragma once

// The one UTF-8 validator, shared by the log's JSON lines, the MCP codec and
// the mail decoders.

#include <cstddef>
#include <string_view>

namespace postern {

/// Length of the well-formed UTF-8 sequence at `s[i]`, or 0 when it is
/// ill-formed (Unicode table 3-7: no overlong forms, no surrogates, nothing
/// above U+10FFFF, no sequence cut off by the end). `i < s.size()`.
size_t utf8_sequence_length(std::string_view s, size_t i = 0) noexcept;

/// Whether all of `s` is well-formed UTF-8. Linear, no allocation.
bool is_valid_utf8(std::string_view s) noexcept;

/// Number of code points of valid UTF-8 (what clients count as
/// characters): the bytes that are not continuation bytes.
size_t count_code_points(std::string_view s) noexcept;

} // namespace postern
