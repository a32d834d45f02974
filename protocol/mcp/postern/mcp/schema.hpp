// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <rapidjson/document.h>

#include <string>

namespace postern::mcp {

/// Checks `value` against the subset of JSON Schema that Postern's tool
/// schemas use: type (one name or a list), properties, required,
/// additionalProperties: false, minimum/maximum, minLength/maxLength (in
/// code points), items, minItems/maxItems, enum of strings. Other keywords
/// (description, default, pattern, title) are ignored here; patterns are
/// checked by the tools with better sentences.
///
/// Returns an empty string when valid, else one sentence naming the field,
/// e.g. "`pageSize` must be at most 50 (got 500)".
///
/// "integer" accepts JSON numbers with an integral value (2.0), as JSON
/// Schema does.
std::string check_schema(const rapidjson::Value& schema,
                         const rapidjson::Value& value);

} // namespace postern::mcp
