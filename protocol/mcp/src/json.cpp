// SPDX-License-Identifier: Apache-2.0
#include "postern/mcp/json.hpp"

namespace postern::mcp {

std::string to_valid_utf8(std::string_view s) {
  std::string result;
  result.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    auto n = utf8_sequence_length(s, i);
    if (n == 0) {
      result += "\xEF\xBF\xBD";
      ++i;
    } else {
      result.append(s.substr(i, n));
      i += n;
    }
  }
  return result;
}

std::string_view prefix_code_points(std::string_view s, size_t n) noexcept {
  size_t seen = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) {
      if (seen == n)
        return s.substr(0, i);
      ++seen;
    }
  }
  return s;
}

json_writer::json_writer() : w_(buf_) {
  // nop
}

json_writer& json_writer::begin_object() {
  w_.StartObject();
  return *this;
}

json_writer& json_writer::end_object() {
  w_.EndObject();
  return *this;
}

json_writer& json_writer::begin_array() {
  w_.StartArray();
  return *this;
}

json_writer& json_writer::end_array() {
  w_.EndArray();
  return *this;
}

json_writer& json_writer::key(std::string_view name) {
  if (is_valid_utf8(name)) {
    w_.Key(name.data(), static_cast<rapidjson::SizeType>(name.size()), true);
  } else {
    auto fixed = to_valid_utf8(name);
    w_.Key(fixed.data(), static_cast<rapidjson::SizeType>(fixed.size()), true);
  }
  return *this;
}

json_writer& json_writer::string(std::string_view value) {
  if (is_valid_utf8(value)) {
    w_.String(value.data(), static_cast<rapidjson::SizeType>(value.size()),
              true);
  } else {
    auto fixed = to_valid_utf8(value);
    w_.String(fixed.data(), static_cast<rapidjson::SizeType>(fixed.size()),
              true);
  }
  return *this;
}

json_writer& json_writer::string_or_null(std::string_view value) {
  return value.empty() ? null() : string(value);
}

json_writer& json_writer::integer(int64_t value) {
  w_.Int64(value);
  return *this;
}

json_writer& json_writer::uinteger(uint64_t value) {
  w_.Uint64(value);
  return *this;
}

json_writer& json_writer::boolean(bool value) {
  w_.Bool(value);
  return *this;
}

json_writer& json_writer::null() {
  w_.Null();
  return *this;
}

json_writer& json_writer::raw(std::string_view json) {
  auto type = rapidjson::kObjectType;
  if (!json.empty()) {
    switch (json.front()) {
      case '[':
        type = rapidjson::kArrayType;
        break;
      case '"':
        type = rapidjson::kStringType;
        break;
      case '{':
        break;
      default:
        type = rapidjson::kNumberType;
    }
  }
  w_.RawValue(json.data(), json.size(), type);
  return *this;
}

json_writer& json_writer::value(const rapidjson::Value& v) {
  // Parsed input was validated as UTF-8, so Accept cannot emit bad bytes.
  v.Accept(w_);
  return *this;
}

std::string json_writer::str() const {
  return std::string{buf_.GetString(), buf_.GetSize()};
}

std::string to_json(const rapidjson::Value& v) {
  json_writer w;
  w.value(v);
  return w.str();
}

std::string quote(std::string_view text) {
  json_writer w;
  w.string(text);
  return w.str();
}

std::string_view string_of(const rapidjson::Value& v) noexcept {
  return {v.GetString(), v.GetStringLength()};
}

const rapidjson::Value* find_member(const rapidjson::Value* obj,
                                    const char* name) noexcept {
  if (obj == nullptr || !obj->IsObject())
    return nullptr;
  auto i = obj->FindMember(name);
  return i == obj->MemberEnd() ? nullptr : &i->value;
}

const rapidjson::Value* find_member(const rapidjson::Value& obj,
                                    const char* name) noexcept {
  return find_member(&obj, name);
}

} // namespace postern::mcp
