// SPDX-License-Identifier: Apache-2.0
#include "postern/mime/transfer_encoding.hpp"

#include "postern/mime/header.hpp"
#include "postern/mime/work.hpp"

#include <array>
#include <cstdint>

namespace postern::mime {

namespace {

constexpr std::string_view base64_alphabet
  = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

constexpr std::array<int8_t, 256> make_base64_table() {
  std::array<int8_t, 256> table{};
  for (auto& x : table)
    x = -1;
  for (size_t i = 0; i < base64_alphabet.size(); ++i)
    table[static_cast<uint8_t>(base64_alphabet[i])] = static_cast<int8_t>(i);
  return table;
}

constexpr auto base64_table = make_base64_table();

int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') // lowercase is not canonical but common
    return c - 'a' + 10;
  return -1;
}

std::string_view trim(std::string_view x) noexcept {
  while (!x.empty() && (x.front() == ' ' || x.front() == '\t'))
    x.remove_prefix(1);
  while (!x.empty() && (x.back() == ' ' || x.back() == '\t'))
    x.remove_suffix(1);
  return x;
}

} // namespace

std::string decode_base64(std::string_view text) {
  detail::count_work(text.size());
  std::string out;
  out.reserve(text.size() / 4 * 3);
  uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    if (c == '=')
      break;
    auto v = base64_table[static_cast<uint8_t>(c)];
    if (v < 0)
      continue;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xFF);
    }
  }
  return out;
}

std::optional<std::string> decode_base64_strict(std::string_view text) {
  detail::count_work(text.size());
  std::string clean;
  clean.reserve(text.size());
  for (char c : text)
    if (c != ' ' && c != '\t' && c != '\r' && c != '\n')
      clean += c;
  if (clean.size() % 4 != 0)
    return std::nullopt;
  size_t padding = 0;
  for (size_t i = 0; i < clean.size(); ++i) {
    auto c = clean[i];
    if (c == '=') {
      // Only the last one or two characters may be padding.
      if (i + 2 < clean.size())
        return std::nullopt;
      ++padding;
      continue;
    }
    if (padding > 0 || base64_table[static_cast<uint8_t>(c)] < 0)
      return std::nullopt;
  }
  return decode_base64(clean);
}

std::string encode_base64(std::string_view bytes, size_t line_length) {
  std::string out;
  out.reserve(bytes.size() * 4 / 3 + 4 + bytes.size() / 38);
  size_t column = 0;
  auto put = [&](char c) {
    if (line_length > 0 && column == line_length) {
      out += "\r\n";
      column = 0;
    }
    out += c;
    ++column;
  };
  size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    auto n = (static_cast<uint32_t>(static_cast<uint8_t>(bytes[i])) << 16)
             | (static_cast<uint32_t>(static_cast<uint8_t>(bytes[i + 1])) << 8)
             | static_cast<uint32_t>(static_cast<uint8_t>(bytes[i + 2]));
    put(base64_alphabet[(n >> 18) & 63]);
    put(base64_alphabet[(n >> 12) & 63]);
    put(base64_alphabet[(n >> 6) & 63]);
    put(base64_alphabet[n & 63]);
  }
  auto rest = bytes.size() - i;
  if (rest > 0) {
    auto n = static_cast<uint32_t>(static_cast<uint8_t>(bytes[i])) << 16;
    if (rest == 2)
      n |= static_cast<uint32_t>(static_cast<uint8_t>(bytes[i + 1])) << 8;
    put(base64_alphabet[(n >> 18) & 63]);
    put(base64_alphabet[(n >> 12) & 63]);
    put(rest == 2 ? base64_alphabet[(n >> 6) & 63] : '=');
    put('=');
  }
  return out;
}

std::string decode_quoted_printable(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    detail::count_work(1);
    char c = text[i];
    if (c != '=') {
      // Trailing whitespace on a line was added in transport (RFC 2045).
      // The whole run is handled at once: looking ahead from each of its
      // spaces would be quadratic in a long run.
      if (c == ' ' || c == '\t') {
        auto j = i;
        while (j < text.size() && (text[j] == ' ' || text[j] == '\t'))
          ++j;
        detail::count_work(j - i);
        if (!(j == text.size() || text[j] == '\r' || text[j] == '\n'))
          out.append(text, i, j - i);
        i = j;
        continue;
      }
      out += c;
      ++i;
      continue;
    }
    // Soft line break: "=" followed by optional whitespace and a line end.
    auto j = i + 1;
    while (j < text.size() && (text[j] == ' ' || text[j] == '\t'))
      ++j;
    detail::count_work(j - i);
    if (j < text.size() && (text[j] == '\r' || text[j] == '\n')) {
      if (text[j] == '\r' && j + 1 < text.size() && text[j + 1] == '\n')
        ++j;
      i = j + 1;
      continue;
    }
    if (j == text.size()) { // "=" at the very end (or a cut partial fetch)
      i = j;
      continue;
    }
    if (i + 2 < text.size()) {
      auto hi = hex_value(text[i + 1]);
      auto lo = hex_value(text[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out += static_cast<char>(hi * 16 + lo);
        i += 3;
        continue;
      }
    } else if (i + 1 == text.size() - 1 && hex_value(text[i + 1]) >= 0) {
      break; // "=X" cut off by a partial fetch
    }
    out += '=';
    ++i;
  }
  return out;
}

std::string encode_quoted_printable(std::string_view text) {
  constexpr size_t max_line = 76;
  std::string out;
  out.reserve(text.size() * 11 / 10 + 8);
  size_t column = 0;
  auto emit = [&](std::string_view token) {
    // Leave room for the "=" of a soft line break.
    if (column + token.size() > max_line - 1) {
      out += "=\r\n";
      column = 0;
    }
    out += token;
    column += token.size();
  };
  static constexpr char hex[] = "0123456789ABCDEF";
  for (size_t i = 0; i < text.size(); ++i) {
    auto c = static_cast<uint8_t>(text[i]);
    if (c == '\r' || c == '\n') {
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n')
        ++i;
      out += "\r\n";
      column = 0;
      continue;
    }
    bool at_line_end = i + 1 == text.size() || text[i + 1] == '\r'
                       || text[i + 1] == '\n';
    bool literal = (c >= 33 && c <= 126 && c != '=')
                   || ((c == ' ' || c == '\t') && !at_line_end);
    // A line starting with "." or "From " is mangled by some relays.
    if (column == 0 && c == '.')
      literal = false;
    if (literal) {
      char token[1] = {static_cast<char>(c)};
      emit(std::string_view{token, 1});
    } else {
      char token[3] = {'=', hex[c >> 4], hex[c & 15]};
      emit(std::string_view{token, 3});
    }
  }
  return out;
}

std::string decode_transfer_encoding(std::string_view data,
                                     std::string_view encoding) {
  auto name = trim(encoding);
  if (iequals(name, "base64"))
    return decode_base64(data);
  if (iequals(name, "quoted-printable"))
    return decode_quoted_printable(data);
  return std::string{data};
}

} // namespace postern::mime
