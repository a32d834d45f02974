// SPDX-License-Identifier: Apache-2.0
#include "postern/text.hpp"

namespace postern {

std::string_view trim_blanks(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  return s;
}

std::string address_domain(std::string_view address) {
  auto at = address.rfind('@');
  if (at == std::string_view::npos || at + 1 >= address.size())
    return {};
  return ascii_lower(address.substr(at + 1));
}

std::string ascii_lower(std::string_view s) {
  std::string out{s};
  for (auto& c : out)
    if (c >= 'A' && c <= 'Z')
      c = static_cast<char>(c - 'A' + 'a');
  return out;
}

void append_html_escaped(std::string& out, std::string_view text) {
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      case '`':
        out += "&#96;";
        break;
      case '=':
        out += "&#61;";
        break;
      default:
        out += c;
    }
  }
}

std::vector<std::string_view> split_words(std::string_view text,
                                          std::string_view separators) {
  std::vector<std::string_view> result;
  size_t i = 0;
  while (i < text.size()) {
    auto end = text.find_first_of(separators, i);
    if (end == std::string_view::npos)
      end = text.size();
    if (end > i)
      result.push_back(text.substr(i, end - i));
    i = end + 1;
  }
  return result;
}

std::optional<uint16_t> parse_port(std::string_view text) noexcept {
  if (text.empty() || text.size() > 5)
    return std::nullopt;
  uint32_t n = 0;
  for (auto c : text) {
    if (c < '0' || c > '9')
      return std::nullopt;
    n = n * 10 + static_cast<uint32_t>(c - '0');
  }
  if (n == 0 || n > 65535)
    return std::nullopt;
  return static_cast<uint16_t>(n);
}

int hex_digit(char c) noexcept {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

namespace {

bool is_unreserved(unsigned char u) noexcept {
  return (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z')
         || (u >= '0' && u <= '9') || u == '-' || u == '.' || u == '_'
         || u == '~';
}

} // namespace

std::string percent_encode(std::string_view text) {
  static constexpr char digits[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size() * 3);
  for (char c : text) {
    auto u = static_cast<unsigned char>(c);
    if (is_unreserved(u)) {
      out += c;
    } else {
      out += '%';
      out += digits[u >> 4];
      out += digits[u & 0xF];
    }
  }
  return out;
}

std::optional<std::string>
percent_decode_strict(std::string_view text, std::string_view allowed) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    auto c = text[i];
    if (c == '%') {
      if (i + 2 >= text.size())
        return std::nullopt;
      auto hi = hex_digit(text[i + 1]);
      auto lo = hex_digit(text[i + 2]);
      if (hi < 0 || lo < 0)
        return std::nullopt;
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else if (allowed.find(c) != std::string_view::npos) {
      out += c;
    } else {
      return std::nullopt;
    }
  }
  return out;
}

} // namespace postern
