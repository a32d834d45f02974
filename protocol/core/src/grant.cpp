// SPDX-License-Identifier: Apache-2.0
#include "postern/grant.hpp"

namespace postern {

std::string_view to_string(scope s) {
  switch (s) {
    case scope::folders:
      return "mail:folders";
    case scope::read:
      return "mail:read";
    case scope::search:
      return "mail:search";
    case scope::modify:
      return "mail:modify";
    case scope::send:
      return "mail:send";
    case scope::draft:
      return "mail:draft";
  }
  return "invalid";
}

std::optional<scope> parse_scope(std::string_view name) {
  for (auto s : all_scopes)
    if (to_string(s) == name)
      return s;
  return std::nullopt;
}

std::optional<scope_set> parse_scopes(std::string_view text,
                                      std::string* unknown) {
  scope_set result = 0;
  size_t i = 0;
  while (i < text.size()) {
    auto c = text[i];
    if (c == ' ' || c == ',' || c == '\t') {
      ++i;
      continue;
    }
    auto end = text.find_first_of(" ,\t", i);
    if (end == std::string_view::npos)
      end = text.size();
    auto name = text.substr(i, end - i);
    auto s = parse_scope(name);
    if (!s) {
      if (unknown)
        *unknown = std::string{name};
      return std::nullopt;
    }
    result |= bit(*s);
    i = end;
  }
  return result;
}

std::string format_scopes(scope_set set) {
  std::string result;
  for (auto s : all_scopes) {
    if (!has_scope(set, s))
      continue;
    if (!result.empty())
      result += ' ';
    result += to_string(s);
  }
  return result;
}

} // namespace postern
