// SPDX-License-Identifier: Apache-2.0
// The /mcp endpoint's settings from the configuration, and the header
// parsing it does before any actor is asked: origins (normalised, loopback
// ports folded), bearer tokens (RFC 6750 syntax, bounded length), and the
// conversion of an mcp_reply into a Beast response.
#include "mcp_internal.hpp"
#include "postern/http/mcp_endpoint.hpp"
#include "postern/text.hpp"

#include <algorithm>
#include <cctype>

namespace postern::http {

response_type to_http(mcp_reply reply) {
  response_type response{reply.status, 11};
  if (!reply.body.empty()) {
    if (std::none_of(reply.headers.begin(), reply.headers.end(),
                     [](auto& h) { return h.first == "Content-Type"; }))
      response.set(bhttp::field::content_type, "application/json");
    response.body() = std::move(reply.body);
  }
  for (auto& [name, value] : reply.headers)
    response.set(name, value);
  response.prepare_payload();
  return response;
}

bool supported_mcp_version(std::string_view v) {
  return std::find(std::begin(mcp_versions), std::end(mcp_versions), v)
         != std::end(mcp_versions);
}

mcp_settings mcp_settings::from(const config& cfg) {
  mcp_settings s;
  s.base_url = cfg.base_url;
  while (!s.base_url.empty() && s.base_url.back() == '/')
    s.base_url.pop_back();
  size_t start = 0;
  const auto& list = cfg.allowed_origins;
  while (start < list.size()) {
    auto end = list.find(',', start);
    if (end == std::string::npos)
      end = list.size();
    if (auto o = normalize_origin(
          trim_blanks(std::string_view{list}.substr(start, end - start)));
        !o.empty())
      s.extra_origins.push_back(std::move(o));
    start = end + 1;
  }
  s.session_idle = std::chrono::seconds(cfg.mcp_session_idle_seconds);
  s.sessions_per_grant = cfg.mcp_sessions_per_grant;
  s.sessions_per_user = cfg.mcp_sessions_per_user;
  s.tool_rate_limit = cfg.tool_rate_limit;
  if (cfg.session_secret && !cfg.session_secret->empty())
    s.links = std::make_shared<file_links>(*cfg.session_secret);
  s.link_ttl = std::chrono::seconds(cfg.file_link_ttl_seconds);
  s.link_max_bytes = cfg.file_link_max_bytes;
  return s;
}

std::string mcp_settings::resource() const {
  return base_url + "/mcp";
}

std::string mcp_settings::resource_metadata() const {
  // RFC 9728 §3.1: the well-known segment goes between host and path.
  auto origin_end = base_url.find('/', base_url.find("://") + 3);
  auto origin = base_url.substr(0, origin_end);
  auto path = origin_end == std::string::npos ? std::string{}
                                              : base_url.substr(origin_end);
  return origin + "/.well-known/oauth-protected-resource" + path + "/mcp";
}

std::string normalize_origin(std::string_view url) {
  auto sep = url.find("://");
  if (sep == std::string_view::npos)
    return {};
  auto scheme = ascii_lower(url.substr(0, sep));
  if (scheme != "http" && scheme != "https")
    return {};
  auto rest = url.substr(sep + 3);
  auto authority = ascii_lower(rest.substr(0, rest.find_first_of("/?#")));
  if (authority.empty() || authority.find('@') != std::string::npos)
    return {};
  auto default_port = scheme == "https" ? std::string_view{":443"}
                                        : std::string_view{":80"};
  if (authority.size() > default_port.size()
      && authority.compare(authority.size() - default_port.size(),
                           default_port.size(), default_port)
           == 0)
    authority.resize(authority.size() - default_port.size());
  return scheme + "://" + authority;
}

std::string loopback_key(std::string_view origin) {
  auto sep = origin.find("://");
  if (sep == std::string_view::npos)
    return {};
  auto scheme = origin.substr(0, sep);
  auto authority = origin.substr(sep + 3);
  std::string_view host;
  std::string_view port;
  if (!authority.empty() && authority.front() == '[') {
    auto close = authority.find(']');
    if (close == std::string_view::npos)
      return {};
    host = authority.substr(0, close + 1);
    port = authority.substr(close + 1);
  } else {
    auto colon = authority.find(':');
    host = authority.substr(0, colon);
    port = colon == std::string_view::npos ? std::string_view{}
                                           : authority.substr(colon);
  }
  if (host != "localhost" && host != "127.0.0.1" && host != "[::1]")
    return {};
  return std::string{scheme} + "://loopback" + std::string{port};
}

std::string bearer_token(std::string_view authorization, bool& malformed) {
  malformed = false;
  auto value = trim_blanks(authorization);
  auto space = value.find(' ');
  if (space == std::string_view::npos)
    return {};
  if (ascii_lower(value.substr(0, space)) != "bearer")
    return {};
  auto token = trim_blanks(value.substr(space + 1));
  // RFC 6750 b64token: ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/",
  // then "=" padding; bounded so nobody hashes megabytes.
  auto valid = !token.empty() && token.size() <= 512;
  size_t i = 0;
  for (; valid && i < token.size(); ++i) {
    auto c = static_cast<unsigned char>(token[i]);
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~'
        || c == '+' || c == '/')
      continue;
    break;
  }
  for (; valid && i < token.size(); ++i)
    if (token[i] != '=')
      valid = false;
  if (!valid) {
    malformed = true;
    return {};
  }
  return std::string{token};
}

} // namespace postern::http
