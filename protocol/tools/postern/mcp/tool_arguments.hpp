// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <rapidjson/document.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace postern::mcp {

/// Reads the arguments of one tool call that passed the tool's input schema.
/// An argument that was left out takes the schema's `default`, so a default
/// is written once, in the schema file, and never again in the parser.
class tool_arguments {
public:
  /// `schema` is the tool's resolved input schema, `args` the call's
  /// arguments (an object, already checked against `schema`).
  tool_arguments(const rapidjson::Value& schema, const rapidjson::Value& args);

  /// The value given for `name`, or nullptr when it was left out.
  const rapidjson::Value* given(const char* name) const;

  /// The string given, else the schema's default, else "".
  std::string text(const char* name) const;

  /// The integer given, else the schema's default, else `otherwise` (for
  /// defaults that depend on other arguments and so cannot be in a schema).
  int64_t integer(const char* name, int64_t otherwise = 0) const;

  /// The boolean given, else the schema's default, else false.
  bool flag(const char* name) const;

  /// The boolean given, or nothing when it was left out.
  std::optional<bool> given_flag(const char* name) const;

  /// A UID the schema requires (or one whose presence was checked).
  uint32_t uid(const char* name) const;

  /// The UIDs of `uids` (duplicates dropped, order kept) or else of `uid`;
  /// `several` tells which. Empty when neither was given.
  std::vector<uint32_t> uids(bool& several) const;

  /// The schema's default for `name`, or nullptr when it has none.
  const rapidjson::Value* default_of(const char* name) const;

private:
  const rapidjson::Value& schema_;
  const rapidjson::Value& args_;
};

/// The string member `name` of `object` (checked by a schema), or "".
std::string string_member(const rapidjson::Value& object, const char* name);

/// A UID (checked by a schema: an integral number from 1 to 2^32 - 1).
uint32_t as_uid(const rapidjson::Value& v);

} // namespace postern::mcp
