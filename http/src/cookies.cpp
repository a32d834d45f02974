// SPDX-License-Identifier: Apache-2.0
#include "postern/http/cookies.hpp"

#include "postern/text.hpp"

namespace postern::http {

std::optional<std::string> find_cookie(const request& req,
                                       std::string_view name) {
  for (auto& field : req.raw) {
    if (field.name() != bhttp::field::cookie)
      continue;
    auto header = std::string_view{field.value().data(), field.value().size()};
    while (!header.empty()) {
      auto semi = header.find(';');
      auto pair = trim_blanks(header.substr(0, semi));
      header = semi == std::string_view::npos ? std::string_view{}
                                              : header.substr(semi + 1);
      auto eq = pair.find('=');
      if (eq == std::string_view::npos
          || trim_blanks(pair.substr(0, eq)) != name)
        continue;
      auto value = trim_blanks(pair.substr(eq + 1));
      if (value.size() >= 2 && value.front() == '"' && value.back() == '"')
        value = value.substr(1, value.size() - 2);
      return std::string{value};
    }
  }
  return std::nullopt;
}

std::string set_cookie(std::string_view name, std::string_view value,
                       const cookie_attributes& attrs) {
  std::string out{name};
  out += '=';
  out += value;
  out += "; Path=/";
  if (attrs.max_age >= 0)
    out += "; Max-Age=" + std::to_string(attrs.max_age);
  if (attrs.http_only)
    out += "; HttpOnly";
  if (attrs.secure)
    out += "; Secure";
  out += "; SameSite=";
  out += attrs.same_site;
  return out;
}

std::string delete_cookie(std::string_view name, bool secure) {
  cookie_attributes attrs;
  attrs.secure = secure;
  attrs.max_age = 0;
  return set_cookie(name, "", attrs);
}

} // namespace postern::http
