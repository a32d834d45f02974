// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "postern/utf8.hpp"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace postern::mcp {

using postern::count_code_points;
using postern::is_valid_utf8;

/// `s` with every ill-formed sequence replaced by U+FFFD. Mail data is full
/// of stray bytes, and RapidJSON's writer must never see them
/// (LIBRARY-NOTES 2.5).
std::string to_valid_utf8(std::string_view s);

/// The first `n` code points of valid UTF-8 (a prefix, never a cut
/// sequence).
std::string_view prefix_code_points(std::string_view s, size_t n) noexcept;

/// Builds compact JSON. Every string goes through `to_valid_utf8` unless it
/// is already valid, so any input makes valid output.
class json_writer {
public:
  json_writer();

  json_writer& begin_object();
  json_writer& end_object();
  json_writer& begin_array();
  json_writer& end_array();
  json_writer& key(std::string_view name);
  json_writer& string(std::string_view value);
  /// A string, or null when empty.
  json_writer& string_or_null(std::string_view value);
  json_writer& integer(int64_t value);
  json_writer& uinteger(uint64_t value);
  json_writer& boolean(bool value);
  json_writer& null();
  /// Inserts already serialized JSON (one complete value) as is.
  json_writer& raw(std::string_view json);
  /// Copies a RapidJSON value.
  json_writer& value(const rapidjson::Value& v);

  /// The JSON text so far.
  std::string str() const;

private:
  rapidjson::StringBuffer buf_;
  rapidjson::Writer<rapidjson::StringBuffer> w_;
};

/// Serializes a RapidJSON value compactly.
std::string to_json(const rapidjson::Value& v);

/// A JSON string literal of `text` (quoted, escaped, valid UTF-8).
std::string quote(std::string_view text);

/// The bytes of a JSON string (`v` must be a string).
std::string_view string_of(const rapidjson::Value& v) noexcept;

/// The member `name` of `obj`, or null when `obj` is null, not an object
/// or has no such member.
const rapidjson::Value* find_member(const rapidjson::Value* obj,
                                    const char* name) noexcept;

/// As above, for an object held by reference.
const rapidjson::Value* find_member(const rapidjson::Value& obj,
                                    const char* name) noexcept;

} // namespace postern::mcp
