// SPDX-License-Identifier: Apache-2.0
#include "postern/oauth/uri.hpp"

#include "postern/mcp/json.hpp"
#include "postern/text.hpp"

#include <algorithm>
#include <cctype>

namespace postern::oauth {

namespace {

bool all_digits(std::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return c >= '0' && c <= '9'; });
}

} // namespace

std::optional<uri_parts> split_uri(std::string_view uri) {
  auto sep = uri.find("://");
  if (sep == std::string_view::npos || sep == 0)
    return std::nullopt;
  uri_parts p;
  p.scheme = ascii_lower(uri.substr(0, sep));
  auto rest = uri.substr(sep + 3);
  auto end = rest.find_first_of("/?#");
  auto authority = rest.substr(0, end);
  p.rest = end == std::string_view::npos ? std::string{}
                                         : std::string{rest.substr(end)};
  if (authority.empty() || authority.find('@') != std::string_view::npos)
    return std::nullopt;
  auto colon = authority.rfind(':');
  auto bracket = authority.rfind(']');
  if (colon != std::string_view::npos
      && (bracket == std::string_view::npos || colon > bracket)) {
    p.port = std::string{authority.substr(colon + 1)};
    authority = authority.substr(0, colon);
    if (p.port.empty() || !all_digits(p.port))
      return std::nullopt;
  }
  if (authority.empty())
    return std::nullopt;
  p.host = ascii_lower(authority);
  return p;
}

bool is_loopback(const uri_parts& p) {
  return p.scheme == "http"
         && (p.host == "127.0.0.1" || p.host == "[::1]"
             || p.host == "localhost");
}

std::string redirect_origin(std::string_view uri) {
  if (auto p = split_uri(uri))
    return p->scheme + "://" + p->host + (p->port.empty() ? "" : ":" + p->port);
  auto colon = uri.find(':');
  return std::string{uri.substr(0, colon + 1)};
}

std::string host_of(std::string_view uri) {
  if (auto p = split_uri(uri))
    return p->host;
  return redirect_origin(uri);
}

std::string canonical_resource(std::string_view uri) {
  auto p = split_uri(uri);
  if (!p)
    return std::string{uri};
  if ((p->scheme == "https" && p->port == "443")
      || (p->scheme == "http" && p->port == "80"))
    p->port.clear();
  auto rest = p->rest;
  while (rest.size() > 1 && rest.back() == '/')
    rest.pop_back();
  if (rest == "/")
    rest.clear();
  return p->scheme + "://" + p->host + (p->port.empty() ? "" : ":" + p->port)
         + rest;
}

bool redirect_matches(std::string_view registered, std::string_view sent) {
  if (registered == sent)
    return true;
  auto a = split_uri(registered);
  auto b = split_uri(sent);
  return a && b && is_loopback(*a) && is_loopback(*b) && a->host == b->host
         && a->rest == b->rest;
}

std::string check_redirect_uri(std::string_view uri) {
  if (uri.empty() || uri.size() > 2000)
    return "redirect URIs must have 1 to 2000 characters";
  if (uri.find('#') != std::string_view::npos)
    return "redirect URIs must not contain a fragment";
  for (auto c : uri)
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7F)
      return "redirect URIs must not contain spaces or control characters";
  auto p = split_uri(uri);
  if (p && p->scheme == "https")
    return {};
  if (p && is_loopback(*p))
    return {};
  if (p && p->scheme == "http")
    return "http redirect URIs are allowed only for loopback addresses";
  // Private-use schemes of native apps must be reverse-DNS names.
  auto colon = uri.find(':');
  if (colon != std::string_view::npos && colon > 0) {
    auto scheme = uri.substr(0, colon);
    bool ok = scheme.find('.') != std::string_view::npos
              && std::all_of(scheme.begin(), scheme.end(), [](char c) {
                   return std::isalnum(static_cast<unsigned char>(c))
                          || c == '.' || c == '-' || c == '+';
                 });
    if (ok && scheme != "javascript" && scheme != "data")
      return {};
  }
  return "redirect URIs must use https, http on a loopback address, or a "
         "reverse-DNS private scheme";
}

std::string clean_client_name(std::string_view name) {
  auto valid = mcp::to_valid_utf8(name);
  std::string clean;
  for (auto ch : valid)
    if (static_cast<unsigned char>(ch) >= 0x20 && ch != 0x7F)
      clean += ch;
  return std::string{mcp::prefix_code_points(clean, 100)};
}

bool is_metadata_client_id(std::string_view client_id) {
  auto p = split_uri(client_id);
  return p && (p->scheme == "https" || p->scheme == "http");
}

std::string check_metadata_url(std::string_view url) {
  if (url.size() > 2000)
    return "The client_id URL is longer than 2000 characters.";
  for (auto c : url)
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7F)
      return "The client_id URL contains spaces or control characters.";
  auto p = split_uri(url);
  if (!p)
    return "The client_id is not a valid URL.";
  if (p->scheme != "https")
    return "A client_id URL must use https.";
  if (p->rest.empty() || p->rest[0] != '/' || p->rest == "/"
      || p->rest.rfind("/?", 0) == 0)
    return "A client_id URL must have a path.";
  if (p->rest.find('#') != std::string::npos)
    return "A client_id URL must not have a fragment.";
  auto path = std::string_view{p->rest}.substr(0, p->rest.find('?'));
  for (size_t i = 0; i < path.size();) {
    auto end = path.find('/', i + 1);
    auto segment = path.substr(i + 1, end == std::string_view::npos
                                        ? std::string_view::npos
                                        : end - i - 1);
    if (segment == "." || segment == "..")
      return "A client_id URL must not have . or .. path segments.";
    if (end == std::string_view::npos)
      break;
    i = end;
  }
  return {};
}

std::chrono::seconds cache_lifetime(std::string_view cache_control,
                                    std::chrono::seconds fallback,
                                    std::chrono::seconds longest) {
  auto text = ascii_lower(cache_control);
  std::optional<long long> max_age;
  size_t i = 0;
  while (i < text.size()) {
    auto end = text.find(',', i);
    if (end == std::string::npos)
      end = text.size();
    auto item = std::string_view{text}.substr(i, end - i);
    while (!item.empty() && item.front() == ' ')
      item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ')
      item.remove_suffix(1);
    if (item == "no-store" || item == "no-cache")
      return std::chrono::seconds{0};
    if (item.rfind("max-age=", 0) == 0) {
      auto digits = item.substr(8);
      if (!digits.empty() && digits.size() <= 12 && all_digits(digits))
        max_age = std::stoll(std::string{digits});
      else
        return std::chrono::seconds{0}; // malformed: do not cache
    }
    i = end + 1;
  }
  if (!max_age)
    return std::min(fallback, longest);
  return std::min(std::chrono::seconds{*max_age}, longest);
}

} // namespace postern::oauth
