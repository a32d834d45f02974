// SPDX-License-Identifier: Apache-2.0
#include "postern/mcp/json.hpp"
#include "postern/mcp/tool_arguments.hpp"

#include <algorithm>

namespace postern::mcp {

namespace {

/// Integral JSON numbers (validated against the schema before) as int64.
int64_t as_int(const rapidjson::Value& v) {
  if (v.IsInt64())
    return v.GetInt64();
  if (v.IsUint64())
    return static_cast<int64_t>(v.GetUint64());
  return static_cast<int64_t>(v.GetDouble());
}

} // namespace

tool_arguments::tool_arguments(const rapidjson::Value& schema,
                               const rapidjson::Value& args)
  : schema_(schema), args_(args) {
  // nop
}

const rapidjson::Value* tool_arguments::given(const char* name) const {
  return find_member(args_, name);
}

const rapidjson::Value* tool_arguments::default_of(const char* name) const {
  auto properties = find_member(schema_, "properties");
  auto property = properties ? find_member(*properties, name) : nullptr;
  return property ? find_member(*property, "default") : nullptr;
}

std::string tool_arguments::text(const char* name) const {
  auto v = given(name);
  if (!v)
    v = default_of(name);
  return v ? std::string{v->GetString(), v->GetStringLength()} : std::string{};
}

int64_t tool_arguments::integer(const char* name, int64_t otherwise) const {
  auto v = given(name);
  if (!v)
    v = default_of(name);
  return v ? as_int(*v) : otherwise;
}

bool tool_arguments::flag(const char* name) const {
  if (auto v = given_flag(name))
    return *v;
  auto d = default_of(name);
  return d && d->GetBool();
}

std::optional<bool> tool_arguments::given_flag(const char* name) const {
  auto v = given(name);
  if (!v)
    return std::nullopt;
  return v->GetBool();
}

uint32_t tool_arguments::uid(const char* name) const {
  return as_uid(*given(name));
}

std::vector<uint32_t> tool_arguments::uids(bool& several) const {
  std::vector<uint32_t> result;
  several = false;
  if (auto list = given("uids")) {
    // With uids, uid is not needed (and ignored: agents written for the
    // original send uid because it was required).
    several = true;
    for (auto& v : list->GetArray()) {
      auto uid = as_uid(v);
      if (std::find(result.begin(), result.end(), uid) == result.end())
        result.push_back(uid);
    }
  } else if (auto one = given("uid")) {
    result.push_back(as_uid(*one));
  }
  return result;
}

std::string string_member(const rapidjson::Value& object, const char* name) {
  auto v = find_member(object, name);
  return v ? std::string{v->GetString(), v->GetStringLength()} : std::string{};
}

uint32_t as_uid(const rapidjson::Value& v) {
  if (v.IsUint64())
    return static_cast<uint32_t>(v.GetUint64());
  return static_cast<uint32_t>(v.GetDouble());
}

} // namespace postern::mcp
