// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "postern/http/message.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace postern::http {

/// The value of cookie `name` sent with the request (first match over all
/// Cookie headers), or nullopt.
std::optional<std::string> find_cookie(const request& req,
                                       std::string_view name);

/// How a cookie is set.
struct cookie_attributes {
  /// Only over HTTPS (BASE_URL is https or the connection is TLS).
  bool secure = false;
  /// Seconds; negative makes a session cookie, zero deletes it.
  int64_t max_age = -1;
  /// Invisible to scripts.
  bool http_only = true;
  /// "Lax" (sent on top-level navigations from other sites, never on their
  /// POSTs) or "Strict".
  std::string_view same_site = "Lax";
};

/// The value of a Set-Cookie header (Path=/ always). Names and values must
/// be cookie-safe tokens (ours are base64url).
std::string set_cookie(std::string_view name, std::string_view value,
                       const cookie_attributes& attrs);

/// A Set-Cookie value that deletes the cookie.
std::string delete_cookie(std::string_view name, bool secure);

} // namespace postern::http
