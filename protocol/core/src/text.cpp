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

} // namespace postern
