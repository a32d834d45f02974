// SPDX-License-Identifier: Apache-2.0
#include "postern/error.hpp"
#include "postern/mcp/json.hpp"
#include "postern/mcp/schema.hpp"
#include "postern/mcp/tool_schema.hpp"

#include <rapidjson/error/en.h>

#include <algorithm>

namespace postern::mcp {

namespace {

/// More nested `$use`s than any real piece needs: a piece that uses itself.
constexpr int max_use_depth = 16;

caf::error problem(std::string_view file, const std::string& what) {
  return caf::make_error(ec::invalid_configuration,
                         "tool schema " + std::string{file} + ": " + what);
}

std::string_view find_file(const schema_files& files, std::string_view name) {
  for (auto& [path, text] : files)
    if (path == name)
      return text;
  return {};
}

/// Parses one file; an empty sentence when it is JSON.
std::string parse_file(std::string_view text, rapidjson::Document& doc) {
  doc.Parse(text.data(), text.size());
  if (!doc.HasParseError())
    return {};
  return "not JSON at offset " + std::to_string(doc.GetErrorOffset()) + ": "
         + rapidjson::GetParseError_En(doc.GetParseError());
}

/// Adds the `properties` and `required` of `with` to the object schema
/// `v`; returns why it could not, or an empty sentence.
std::string extend(rapidjson::Value& v, rapidjson::Value& with,
                   rapidjson::Document::AllocatorType& alloc) {
  if (!with.IsObject() || !v.IsObject() || !v.HasMember("properties")
      || !v["properties"].IsObject())
    return "`$with` must be an object and extend a piece with properties";
  for (auto& m : with.GetObject()) {
    auto name = std::string_view{m.name.GetString(), m.name.GetStringLength()};
    if (name == "properties" && m.value.IsObject()) {
      auto& into = v["properties"];
      for (auto& p : m.value.GetObject()) {
        if (into.HasMember(p.name))
          return "`$with` adds " + to_json(p.name)
                 + ", which the piece already has";
        into.AddMember(rapidjson::Value{p.name, alloc},
                       rapidjson::Value{p.value, alloc}, alloc);
      }
    } else if (name == "required" && m.value.IsArray()) {
      if (!v.HasMember("required"))
        v.AddMember("required", rapidjson::Value{rapidjson::kArrayType},
                    alloc);
      for (auto& r : m.value.GetArray())
        v["required"].PushBack(rapidjson::Value{r, alloc}, alloc);
    } else {
      return "`$with` holds only `properties` (an object) and `required` "
             "(a list)";
    }
  }
  return {};
}

/// Replaces every {"$use": name} below `v` by a copy of the piece `name` of
/// `common`, extended by the `properties` and `required` of a `$with`
/// beside it; returns why it could not, or an empty sentence.
std::string resolve(rapidjson::Value& v, const rapidjson::Value& common,
                    rapidjson::Document::AllocatorType& alloc, int depth) {
  if (v.IsArray()) {
    for (auto& item : v.GetArray())
      if (auto why = resolve(item, common, alloc, depth); !why.empty())
        return why;
    return {};
  }
  if (!v.IsObject())
    return {};
  if (auto use = v.FindMember("$use"); use != v.MemberEnd()) {
    auto with = v.FindMember("$with");
    auto members = with == v.MemberEnd() ? 1u : 2u;
    if (v.MemberCount() != members || !use->value.IsString())
      return "`$use` must stand alone in its object (or beside `$with`) and "
             "name a piece of common.json";
    auto piece = common.FindMember(use->value);
    if (piece == common.MemberEnd())
      return "`$use` names " + to_json(use->value)
             + ", which common.json does not hold";
    if (depth == max_use_depth)
      return "`$use` of " + to_json(use->value) + " nests too deep (it uses "
             + "itself)";
    rapidjson::Value extra;
    if (with != v.MemberEnd())
      extra.CopyFrom(with->value, alloc);
    v.CopyFrom(piece->value, alloc);
    if (auto why = resolve(v, common, alloc, depth + 1); !why.empty())
      return why;
    if (members == 2) {
      if (auto why = resolve(extra, common, alloc, depth + 1); !why.empty())
        return why;
      return extend(v, extra, alloc);
    }
    return {};
  }
  for (auto& m : v.GetObject())
    if (auto why = resolve(m.value, common, alloc, depth); !why.empty())
      return why;
  return {};
}

/// Checks the shape of a resolved tool file; an empty sentence when fine.
std::string check_tool_file(const rapidjson::Value& doc) {
  if (!doc.IsObject() || doc.MemberCount() != 4)
    return "must be an object with exactly title, description, inputSchema "
           "and outputSchema";
  for (auto name : {"title", "description"})
    if (!doc.HasMember(name) || !doc[name].IsString())
      return "`" + std::string{name} + "` must be a string";
  for (auto name : {"inputSchema", "outputSchema"}) {
    auto i = doc.FindMember(name);
    if (i == doc.MemberEnd() || !i->value.IsObject()
        || !i->value.HasMember("type") || i->value["type"] != "object")
      return "`" + std::string{name}
             + "` must be a schema of \"type\": \"object\"";
  }
  // A default the tool's own checks would refuse is a default never tried.
  auto& input = doc["inputSchema"];
  if (auto properties = input.FindMember("properties");
      properties != input.MemberEnd() && properties->value.IsObject())
    for (auto& p : properties->value.GetObject())
      if (p.value.IsObject() && p.value.HasMember("default"))
        if (auto why = check_schema(p.value, p.value["default"]); !why.empty())
          return "the default of `" + std::string{p.name.GetString()}
                 + "` breaks its own schema: " + why;
  return {};
}

} // namespace

caf::expected<std::map<std::string, tool_schema, std::less<>>>
load_tool_schemas(const schema_files& files,
                  const std::vector<std::string_view>& tools) {
  rapidjson::Document common;
  if (auto why = parse_file(find_file(files, "common.json"), common);
      !why.empty())
    return problem("common.json", why);
  if (!common.IsObject())
    return problem("common.json", "must be an object of named pieces");
  std::map<std::string, tool_schema, std::less<>> result;
  for (auto tool : tools) {
    auto file = std::string{tool} + ".json";
    auto text = find_file(files, file);
    if (text.empty())
      return problem(file, "missing (every tool needs its schema file)");
    rapidjson::Document doc;
    auto why = parse_file(text, doc);
    if (why.empty())
      why = resolve(doc, common, doc.GetAllocator(), 0);
    if (why.empty())
      why = check_tool_file(doc);
    if (!why.empty())
      return problem(file, why);
    result.emplace(
      std::string{tool},
      tool_schema{doc["title"].GetString(), doc["description"].GetString(),
                  to_json(doc["inputSchema"]), to_json(doc["outputSchema"])});
  }
  for (auto& [path, text] : files)
    if (path != "common.json" && !result.count(path.substr(0, path.size() - 5)))
      return problem(path, "belongs to no tool");
  return result;
}

} // namespace postern::mcp
