// SPDX-License-Identifier: Apache-2.0
#include "postern/mcp/schema.hpp"

#include "postern/mcp/json.hpp"

#include <cmath>
#include <string_view>
#include <vector>

namespace postern::mcp {

namespace {

bool is_integral(const rapidjson::Value& v) {
  if (v.IsInt64() || v.IsUint64())
    return true;
  if (!v.IsDouble())
    return false;
  auto d = v.GetDouble();
  return std::isfinite(d) && std::floor(d) == d;
}

bool has_type(const rapidjson::Value& v, std::string_view type) {
  if (type == "string")
    return v.IsString();
  if (type == "integer")
    return v.IsNumber() && is_integral(v);
  if (type == "number")
    return v.IsNumber();
  if (type == "boolean")
    return v.IsBool();
  if (type == "array")
    return v.IsArray();
  if (type == "object")
    return v.IsObject();
  if (type == "null")
    return v.IsNull();
  return false;
}

std::string describe_type(std::string_view type) {
  if (type == "integer")
    return "an integer";
  if (type == "object")
    return "an object";
  if (type == "array")
    return "an array";
  if (type == "boolean")
    return "true or false";
  if (type == "null")
    return "null";
  return "a " + std::string{type};
}

std::string describe_value(const rapidjson::Value& v) {
  if (v.IsString()) {
    auto s = string_of(v);
    if (count_code_points(s) > 40)
      return "a string of " + std::to_string(count_code_points(s))
             + " characters";
    return quote(s);
  }
  if (v.IsNumber() || v.IsBool() || v.IsNull())
    return to_json(v);
  if (v.IsArray())
    return "an array";
  return "an object";
}

std::string number_text(const rapidjson::Value& v) {
  if (v.IsInt64())
    return std::to_string(v.GetInt64());
  if (v.IsUint64())
    return std::to_string(v.GetUint64());
  auto d = v.GetDouble();
  if (std::floor(d) == d && std::fabs(d) < 1e15)
    return std::to_string(static_cast<int64_t>(d));
  return to_json(v);
}

/// The value as a double for range checks (exact for the ranges used).
double as_double(const rapidjson::Value& v) {
  return v.GetDouble();
}

class checker {
public:
  std::string run(const rapidjson::Value& schema, const rapidjson::Value& v,
                  const std::string& path) {
    if (auto err = check_type(schema, v, path); !err.empty())
      return err;
    if (v.IsObject())
      return check_object(schema, v, path);
    if (v.IsArray())
      return check_array(schema, v, path);
    if (v.IsNumber())
      return check_number(schema, v, path);
    if (v.IsString())
      return check_string(schema, v, path);
    return {};
  }

private:
  static std::string name(const std::string& path) {
    return "`" + path + "`";
  }

  std::string check_type(const rapidjson::Value& schema,
                         const rapidjson::Value& v, const std::string& path) {
    auto type = find_member(schema, "type");
    if (!type)
      return {};
    std::vector<std::string_view> allowed;
    if (type->IsString())
      allowed.push_back(string_of(*type));
    else if (type->IsArray())
      for (auto& t : type->GetArray())
        if (t.IsString())
          allowed.push_back(string_of(t));
    for (auto t : allowed)
      if (has_type(v, t))
        return {};
    std::string expected;
    for (size_t i = 0; i < allowed.size(); ++i) {
      if (i > 0)
        expected += i + 1 == allowed.size() ? " or " : ", ";
      expected += describe_type(allowed[i]);
    }
    return (path.empty() ? std::string{"the arguments"} : name(path))
           + " must be " + expected + " (got " + describe_value(v) + ")";
  }

  std::string check_object(const rapidjson::Value& schema,
                           const rapidjson::Value& v, const std::string& path) {
    auto props = find_member(schema, "properties");
    auto extra = find_member(schema, "additionalProperties");
    bool closed = extra && extra->IsBool() && !extra->GetBool();
    for (auto& m : v.GetObject()) {
      auto key = string_of(m.name);
      auto child = path.empty() ? std::string{key}
                                : path + "." + std::string{key};
      const rapidjson::Value* sub = nullptr;
      if (props && props->IsObject()) {
        auto i = props->FindMember(m.name);
        if (i != props->MemberEnd())
          sub = &i->value;
      }
      if (!sub) {
        if (closed)
          return unknown_property(props, to_valid_utf8(child));
        continue;
      }
      if (auto err = run(*sub, m.value, child); !err.empty())
        return err;
    }
    if (auto req = find_member(schema, "required"); req && req->IsArray())
      for (auto& r : req->GetArray())
        if (r.IsString() && !v.HasMember(r)) {
          auto child = path.empty() ? std::string{string_of(r)}
                                    : path + "." + std::string{string_of(r)};
          return name(child) + " is required";
        }
    return {};
  }

  static std::string unknown_property(const rapidjson::Value* props,
                                      const std::string& child) {
    std::string known;
    if (props && props->IsObject())
      for (auto& p : props->GetObject()) {
        if (!known.empty())
          known += ", ";
        known += string_of(p.name);
      }
    if (known.empty())
      return "unknown argument `" + child + "`: this tool takes no arguments";
    return "unknown argument `" + child + "`; the arguments are " + known;
  }

  std::string check_array(const rapidjson::Value& schema,
                          const rapidjson::Value& v, const std::string& path) {
    auto size = v.Size();
    if (auto min = find_member(schema, "minItems");
        min && min->IsUint() && size < min->GetUint())
      return name(path) + " must have at least "
             + std::to_string(min->GetUint()) + " item"
             + (min->GetUint() == 1 ? "" : "s");
    if (auto max = find_member(schema, "maxItems");
        max && max->IsUint() && size > max->GetUint())
      return name(path) + " must have at most " + std::to_string(max->GetUint())
             + " items (got " + std::to_string(size) + ")";
    if (auto items = find_member(schema, "items"); items && items->IsObject())
      for (rapidjson::SizeType i = 0; i < size; ++i)
        if (auto err = run(*items, v[i], path + "[" + std::to_string(i) + "]");
            !err.empty())
          return err;
    return {};
  }

  std::string check_number(const rapidjson::Value& schema,
                           const rapidjson::Value& v, const std::string& path) {
    auto min = find_member(schema, "minimum");
    auto max = find_member(schema, "maximum");
    bool below = min && min->IsNumber() && as_double(v) < as_double(*min);
    bool above = max && max->IsNumber() && as_double(v) > as_double(*max);
    if (!below && !above)
      return {};
    if (min && max && min->IsNumber() && max->IsNumber())
      return name(path) + " must be between " + number_text(*min) + " and "
             + number_text(*max) + " (got " + number_text(v) + ")";
    if (below)
      return name(path) + " must be at least " + number_text(*min) + " (got "
             + number_text(v) + ")";
    return name(path) + " must be at most " + number_text(*max) + " (got "
           + number_text(v) + ")";
  }

  std::string check_string(const rapidjson::Value& schema,
                           const rapidjson::Value& v, const std::string& path) {
    auto len = count_code_points(string_of(v));
    if (auto min = find_member(schema, "minLength");
        min && min->IsUint() && len < min->GetUint())
      return min->GetUint() == 1
               ? name(path) + " must not be empty"
               : name(path) + " must be at least "
                   + std::to_string(min->GetUint()) + " characters long";
    if (auto max = find_member(schema, "maxLength");
        max && max->IsUint() && len > max->GetUint())
      return name(path) + " must be at most " + std::to_string(max->GetUint())
             + " characters long (got " + std::to_string(len) + ")";
    if (auto choices = find_member(schema, "enum");
        choices && choices->IsArray()) {
      std::string list;
      for (auto& c : choices->GetArray()) {
        if (c == v)
          return {};
        if (!list.empty())
          list += ", ";
        list += to_json(c);
      }
      return name(path) + " must be one of " + list + " (got "
             + describe_value(v) + ")";
    }
    return {};
  }
};

} // namespace

std::string check_schema(const rapidjson::Value& schema,
                         const rapidjson::Value& value) {
  return checker{}.run(schema, value, "");
}

} // namespace postern::mcp
