// SPDX-License-Identifier: Apache-2.0
#include "postern/mcp/json.hpp"

namespace postern::mcp {

namespace {

/// Length of the well-formed UTF-8 sequence at `s[i]`, or 0 if ill-formed
/// (Unicode Table 3-7).
size_t sequence_length(std::string_view s, size_t i) noexcept {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(s[i + k]); };
  auto c = byte(0);
  if (c < 0x80)
    return 1;
  auto left = s.size() - i;
  auto cont = [&](size_t k, unsigned char lo = 0x80, unsigned char hi = 0xBF) {
    return k < left && byte(k) >= lo && byte(k) <= hi;
  };
  if (c >= 0xC2 && c <= 0xDF)
    return cont(1) ? 2 : 0;
  if (c == 0xE0)
    return cont(1, 0xA0) && cont(2) ? 3 : 0;
  if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF)
    return cont(1) && cont(2) ? 3 : 0;
  if (c == 0xED) // no surrogates
    return cont(1, 0x80, 0x9F) && cont(2) ? 3 : 0;
  if (c == 0xF0)
    return cont(1, 0x90) && cont(2) && cont(3) ? 4 : 0;
  if (c >= 0xF1 && c <= 0xF3)
    return cont(1) && cont(2) && cont(3) ? 4 : 0;
  if (c == 0xF4)
    return cont(1, 0x80, 0x8F) && cont(2) && cont(3) ? 4 : 0;
  return 0;
}

} // namespace

bool is_valid_utf8(std::string_view s) noexcept {
  for (size_t i = 0; i < s.size();) {
    if (static_cast<unsigned char>(s[i]) < 0x80) {
      ++i;
      continue;
    }
    auto n = sequence_length(s, i);
    if (n == 0)
      return false;
    i += n;
  }
  return true;
}

std::string to_valid_utf8(std::string_view s) {
  std::string result;
  result.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    auto n = sequence_length(s, i);
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

size_t count_code_points(std::string_view s) noexcept {
  size_t n = 0;
  for (auto c : s)
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80)
      ++n;
  return n;
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

} // namespace postern::mcp
