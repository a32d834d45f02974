// SPDX-License-Identifier: Apache-2.0
#pragma once

// Shared by the OAuth endpoints (one file each under http/src/oauth/,
// registered together in routes.cpp); not part of the http library's
// interface.

#include "postern/grant.hpp"
#include "postern/http/client_metadata.hpp"
#include "postern/http/form.hpp"
#include "postern/http/login_throttle.hpp"
#include "postern/http/mcp_sessions.hpp"
#include "postern/http/responses.hpp"
#include "postern/http/web.hpp"
#include "postern/oauth/uri.hpp"

#include <caf/expected.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace postern::http::oauth_routes {

using namespace web;
using oauth::canonical_resource;
using oauth::check_redirect_uri;
using oauth::host_of;
using oauth::redirect_matches;
using oauth::redirect_origin;

// -- policy -------------------------------------------------------------------

// Code and token lifetimes are the TOKEN AUTHORITY's (oauth_lifetimes).

// Client lifetimes and their cap are the TOKEN AUTHORITY's too.

/// A consent page stays valid this long.
inline constexpr int64_t request_ttl = 600;
inline constexpr size_t max_pending = 10000;
/// Consent pages one user may have open at once (each lives request_ttl).
inline constexpr size_t max_pending_per_user = 20;
/// Registrations per client address (IPv6: per /64) and window, and per
/// hour: unused clients expire after an hour, so one source never holds
/// more than registrations_per_hour unused clients.
inline constexpr int registrations_per_window = 30;
inline constexpr int64_t registration_window = 600;
inline constexpr int registrations_per_hour = 100;
/// /oauth/token requests per minute (bursts as large).
inline constexpr unsigned token_requests_per_client = 60;
inline constexpr unsigned token_requests_per_credential = 10;

// -- state --------------------------------------------------------------------

/// A validated authorization request waiting for the user's consent: the
/// code request to make once they approve (account and scopes still to
/// choose; `scopes` holds the requested ones).
struct pending_request {
  code_request code;
  std::string state;
  int64_t expires_at = 0;
};

/// A client as the authorization and token endpoints see it: registered
/// by DCR (in LMDB) or described by a metadata document (fetched).
struct client_view {
  std::string id;
  std::string name;
  std::vector<std::string> redirect_uris;
  /// Metadata documents list their redirect URIs exactly: no loopback
  /// port leeway.
  bool exact_redirects = false;
};

struct oauth_server {
  std::shared_ptr<const site> web;
  std::string issuer;
  std::string resource;
  std::unique_ptr<client_metadata_fetcher> documents;
  /// Token requests per client, and per code or refresh token presented
  /// (one grant's credential), per minute: a flood of one client cannot
  /// keep the TOKEN AUTHORITY busy for everyone.
  rate_limiter token_per_client{token_requests_per_client};
  rate_limiter token_per_credential{token_requests_per_credential};

  std::mutex mtx;
  std::unordered_map<std::string, pending_request> pending;
  /// Registrations of one source (address_bucket): in the current
  /// 10-minute window and in the current hour.
  struct registration_count {
    int64_t window_start = 0;
    int in_window = 0;
    int64_t hour_start = 0;
    int in_hour = 0;
  };
  std::unordered_map<std::string, registration_count> registrations;

  void prune(int64_t now) {
    for (auto i = pending.begin(); i != pending.end();)
      i = i->second.expires_at < now ? pending.erase(i) : std::next(i);
    for (auto i = registrations.begin(); i != registrations.end();)
      i = i->second.hour_start + 3600 < now ? registrations.erase(i)
                                            : std::next(i);
  }
};

using server_ptr = std::shared_ptr<oauth_server>;

// -- endpoints (one file each) ------------------------------------------------

// metadata.cpp
response_type as_metadata(const oauth_server& s);
response_type pr_metadata(const oauth_server& s);

// register.cpp
void handle_register(const server_ptr& s, const request& req,
                     const responder& respond);

// authorize.cpp
void handle_authorize_get(const server_ptr& s, const request& req,
                          const responder& respond);
void handle_authorize_post(const server_ptr& s, const request& req,
                           const responder& respond);

// token.cpp
void handle_token(const server_ptr& s, const request& req,
                  const responder& respond);

// revoke.cpp
void handle_revoke(const server_ptr& s, const request& req,
                   const responder& respond);

// -- helpers (shared.cpp) -----------------------------------------------------

/// True for the one resource of this server: BASE_URL/mcp, or BASE_URL
/// itself (Claude sometimes sends the origin), after canonicalization.
bool names_our_resource(std::string_view sent, std::string_view resource,
                        std::string_view issuer);

std::string
with_params(std::string_view base,
            const std::vector<std::pair<std::string, std::string>>& params);

/// A repeated OAuth parameter (OAuth 2.1 §3.1: must be rejected).
std::string repeated_param(const form_data& f);

response_type no_store(response_type res);

response_type oauth_error(bhttp::status status, std::string_view code,
                          std::string_view description);

response_type with_cors(response_type res);

/// Looks a client up: LMDB for registered clients, the fetcher (cache or
/// HTTPS, never blocking the caller) for metadata document URLs. Fails with
/// a sentence for the person.
void resolve_client(const server_ptr& s, const std::string& id,
                    const std::string& requester,
                    std::function<void(caf::expected<client_view>)> then);

} // namespace postern::http::oauth_routes
