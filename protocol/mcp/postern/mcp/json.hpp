// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "postern/utf8.hpp"

#include <rapidjson/document.h>

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

/// Builds compact JSON, written straight into one string. Every string is
/// checked and escaped in the same pass, with each ill-formed UTF-8 byte
/// replaced by U+FFFD (as `to_valid_utf8` does), so any input makes valid
/// output. The layout matches RapidJSON's compact writer byte for byte
/// (control characters as \b \t \n \f \r or \u00XX, '/' and non-ASCII
/// as is). It is hand-written because the mail path is mostly this work:
/// RapidJSON's writer plus a separate validation pass cost ~4x as many
/// instructions per byte (issue 18).
/// Linear in what is written; nesting costs one byte of state per level.
class json_writer {
public:
  json_writer() = default;

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
  /// A string whose content is JSON text this process wrote (a writer's
  /// output: well-formed UTF-8, control characters already escaped), such
  /// as the text mirror of a tool's structuredContent: only `"` and `\`
  /// need escaping, so it skips the UTF-8 check string() makes. A control
  /// character found anyway (the promise broken) falls back to string().
  json_writer& json_text(std::string_view json);
  /// Copies a RapidJSON value.
  json_writer& value(const rapidjson::Value& v);

  /// The JSON text so far.
  std::string str() const;
  /// The JSON text, moved out (the writer is empty afterwards).
  std::string take();

private:
  /// Writes the comma a value needs after an earlier one in its container.
  void separate();
  void write_string(std::string_view s);
  void write_value(const rapidjson::Value& v);

  std::string out_;
  /// One byte per open container: 1 once it holds a value.
  std::string open_;
  /// A key was written; its value follows without a comma.
  bool after_key_ = false;
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
