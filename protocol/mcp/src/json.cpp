// SPDX-License-Identifier: Apache-2.0
#include "postern/mcp/json.hpp"

#include <rapidjson/internal/dtoa.h>

#include <array>
#include <charconv>
#include <cstring>

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

namespace {

/// Bytes a JSON string carries as they are: printable ASCII but '"' and '\\'.
/// Non-ASCII bytes are checked as UTF-8 sequences instead.
constexpr auto plain_bytes = [] {
  std::array<bool, 256> t{};
  for (int c = 0x20; c < 0x80; ++c)
    t[static_cast<size_t>(c)] = c != '"' && c != '\\';
  return t;
}();

// The high bit set in each of the eight bytes of `x` that a JSON string
// cannot hold as is: a control character (below 0x20), a quote or a
// backslash, and, when `non_ascii`, any byte from 0x80 (which then needs
// its UTF-8 checked). Exact word tests for "a byte is zero" and "a byte is
// below 0x20": a borrow only runs upwards, so the lowest flagged byte is
// always a true one, and the bytes before it are plain.
constexpr uint64_t special_bytes(uint64_t x, bool non_ascii) {
  constexpr uint64_t ones = 0x0101010101010101ull;
  constexpr uint64_t highs = 0x8080808080808080ull;
  auto quote = x ^ (ones * '"');
  auto backslash = x ^ (ones * '\\');
  return ((non_ascii ? x : 0) | ((x - ones * 0x20) & ~x)
          | ((quote - ones) & ~quote) | ((backslash - ones) & ~backslash))
         & highs;
}

} // namespace

void json_writer::separate() {
  if (after_key_) {
    after_key_ = false;
    return;
  }
  if (open_.empty())
    return;
  if (open_.back() != 0)
    out_ += ',';
  else
    open_.back() = 1;
}

void json_writer::write_string(std::string_view s) {
  // Escaped into a buffer on the stack, at most `piece` input bytes at a
  // time, then appended: a byte becomes at most 6 ("\u00XX"), a sequence
  // that starts in the piece ends at most 3 bytes after it. (Appending per
  // escaped character, or resizing the string per piece, cost more than
  // the escaping itself: most strings are short, and the text of a tool
  // result is JSON, full of quotes.)
  constexpr size_t piece = 256;
  char buf[6 * (piece + 3)];
  out_ += '"';
  auto* p = s.data();
  auto* end = p + s.size();
  while (p < end) {
    auto* stop = end - p > static_cast<ptrdiff_t>(piece) ? p + piece : end;
    auto* o = buf;
    while (p < stop) {
      // Eight plain bytes at once when there are (no control character,
      // quote, backslash or non-ASCII byte among them); otherwise the next
      // eight one by one, so a dense text pays the test once per eight.
      if (stop - p >= 8) {
        uint64_t x;
        std::memcpy(&x, p, sizeof x);
        auto special = special_bytes(x, true);
        if (special == 0) {
          std::memcpy(o, p, sizeof x);
          o += 8;
          p += 8;
          continue;
        }
      }
      auto* slow_end = stop - p > 8 ? p + 8 : stop;
      while (p < slow_end && plain_bytes[static_cast<unsigned char>(*p)])
        *o++ = *p++;
      if (p == slow_end)
        continue;
      auto c = static_cast<unsigned char>(*p);
      if (c >= 0x80) {
        auto n = utf8_sequence_length(s, static_cast<size_t>(p - s.data()));
        if (n == 0) {
          *o++ = '\xEF';
          *o++ = '\xBF';
          *o++ = '\xBD';
          ++p;
          continue;
        }
        while (n-- > 0) // well-formed: copied as is
          *o++ = *p++;
        continue;
      }
      *o++ = '\\';
      switch (c) {
        case '"':
        case '\\':
          *o++ = static_cast<char>(c);
          break;
        case '\b':
          *o++ = 'b';
          break;
        case '\t':
          *o++ = 't';
          break;
        case '\n':
          *o++ = 'n';
          break;
        case '\f':
          *o++ = 'f';
          break;
        case '\r':
          *o++ = 'r';
          break;
        default: {
          static constexpr char hex[] = "0123456789ABCDEF";
          *o++ = 'u';
          *o++ = '0';
          *o++ = '0';
          *o++ = hex[c >> 4];
          *o++ = hex[c & 0xF];
        }
      }
      ++p;
    }
    out_.append(buf, static_cast<size_t>(o - buf));
  }
  out_ += '"';
}

json_writer& json_writer::begin_object() {
  separate();
  out_ += '{';
  open_ += '\0';
  return *this;
}

json_writer& json_writer::end_object() {
  out_ += '}';
  if (!open_.empty())
    open_.pop_back();
  return *this;
}

json_writer& json_writer::begin_array() {
  separate();
  out_ += '[';
  open_ += '\0';
  return *this;
}

json_writer& json_writer::end_array() {
  out_ += ']';
  if (!open_.empty())
    open_.pop_back();
  return *this;
}

json_writer& json_writer::key(std::string_view name) {
  separate();
  write_string(name);
  out_ += ':';
  after_key_ = true;
  return *this;
}

json_writer& json_writer::string(std::string_view value) {
  separate();
  write_string(value);
  return *this;
}

json_writer& json_writer::json_text(std::string_view json) {
  separate();
  // Worst case every byte doubles; written through a pointer and trimmed
  // after, since JSON has a quote every few bytes and an append per run
  // would cost more than the copy.
  auto start = out_.size();
  out_.resize(start + 2 * json.size() + 2);
  auto* o = out_.data() + start;
  *o++ = '"';
  auto* p = json.data();
  auto* end = p + json.size();
  while (p < end) {
    if (end - p >= 8) {
      uint64_t x;
      std::memcpy(&x, p, sizeof x);
      // UTF-8 is copied as is: json_text is only given JSON we wrote.
      auto special = special_bytes(x, false);
      if (special == 0) {
        std::memcpy(o, p, sizeof x);
        o += 8;
        p += 8;
        continue;
      }
      // The bytes before the lowest flagged one are plain: one copy.
      auto plain = static_cast<size_t>(__builtin_ctzll(special)) / 8;
      std::memcpy(o, p, sizeof x);
      o += plain;
      p += plain;
    }
    auto c = static_cast<unsigned char>(*p);
    if (c == '"' || c == '\\') {
      *o++ = '\\';
      *o++ = static_cast<char>(c);
    } else if (c < 0x20) {
      out_.resize(start);
      write_string(json);
      return *this;
    } else {
      *o++ = static_cast<char>(c);
    }
    ++p;
  }
  *o++ = '"';
  out_.resize(static_cast<size_t>(o - out_.data()));
  return *this;
}

json_writer& json_writer::string_or_null(std::string_view value) {
  return value.empty() ? null() : string(value);
}

json_writer& json_writer::integer(int64_t value) {
  separate();
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, value);
  out_.append(buf, r.ptr);
  return *this;
}

json_writer& json_writer::uinteger(uint64_t value) {
  separate();
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, value);
  out_.append(buf, r.ptr);
  return *this;
}

json_writer& json_writer::boolean(bool value) {
  separate();
  out_ += value ? "true" : "false";
  return *this;
}

json_writer& json_writer::null() {
  separate();
  out_ += "null";
  return *this;
}

json_writer& json_writer::raw(std::string_view json) {
  separate();
  out_ += json;
  return *this;
}

void json_writer::write_value(const rapidjson::Value& v) {
  switch (v.GetType()) {
    case rapidjson::kNullType:
      null();
      break;
    case rapidjson::kFalseType:
      boolean(false);
      break;
    case rapidjson::kTrueType:
      boolean(true);
      break;
    case rapidjson::kObjectType:
      begin_object();
      for (auto& m : v.GetObject()) {
        key(string_of(m.name));
        write_value(m.value);
      }
      end_object();
      break;
    case rapidjson::kArrayType:
      begin_array();
      for (auto& x : v.GetArray())
        write_value(x);
      end_array();
      break;
    case rapidjson::kStringType:
      string(string_of(v));
      break;
    case rapidjson::kNumberType:
      if (v.IsInt64()) {
        integer(v.GetInt64());
      } else if (v.IsUint64()) {
        uinteger(v.GetUint64());
      } else {
        // Parsed JSON has no NaN or infinity; RapidJSON's shortest form.
        separate();
        char buf[32];
        auto* end = rapidjson::internal::dtoa(v.GetDouble(), buf);
        out_.append(buf, end);
      }
      break;
  }
}

json_writer& json_writer::value(const rapidjson::Value& v) {
  write_value(v);
  return *this;
}

std::string json_writer::str() const {
  return out_;
}

std::string json_writer::take() {
  open_.clear();
  after_key_ = false;
  return std::move(out_);
}

std::string to_json(const rapidjson::Value& v) {
  json_writer w;
  w.value(v);
  return w.take();
}

std::string quote(std::string_view text) {
  json_writer w;
  w.string(text);
  return w.take();
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
