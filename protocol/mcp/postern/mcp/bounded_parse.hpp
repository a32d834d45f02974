// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <rapidjson/document.h>

#include <cstddef>
#include <string_view>

namespace postern::mcp {

/// Nesting deeper than this is refused before parsing (JSON-RPC messages,
/// client registrations, client metadata documents).
inline constexpr size_t max_json_depth = 64;

/// Deepest nesting of arrays and objects in `text`, counted outside
/// strings; stops counting once past `limit`.
size_t nesting_depth(std::string_view text, size_t limit);

/// Parses untrusted JSON: refuses nesting deeper than `max_depth` before
/// parsing, then parses with RapidJSON's iterative parser (no recursion
/// however the input looks) and validates UTF-8. False on any error
/// (`doc` then holds nothing useful).
bool parse_bounded(rapidjson::Document& doc, std::string_view text,
                   size_t max_depth = max_json_depth);

} // namespace postern::mcp
