// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "postern/actors/account_index.hpp"
#include "postern/actors/directory_actor.hpp"
#include "postern/actors/mail_actor.hpp"
#include "postern/actors/outbox_actor.hpp"
#include "postern/actors/token_authority_actor.hpp"
#include "postern/config.hpp"
#include "postern/http/file_links.hpp"
#include "postern/http/mcp_sessions.hpp"
#include "postern/http/message.hpp"
#include "postern/http/router.hpp"

#include <caf/actor_system.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace postern::http {

/// MCP protocol versions /mcp negotiates, newest first (the legacy era:
/// initialize + Mcp-Session-Id).
inline constexpr std::string_view mcp_versions[] = {"2025-11-25", "2025-06-18",
                                                    "2025-03-26"};

/// True for a version in mcp_versions.
bool supported_mcp_version(std::string_view v);

/// What the MCP endpoint needs from the configuration.
struct mcp_settings {
  /// BASE_URL without a trailing slash.
  std::string base_url;
  /// Browser origins allowed besides BASE_URL's own (normalized).
  std::vector<std::string> extra_origins;
  std::chrono::seconds session_idle{3600};
  size_t sessions_per_grant = 16;
  /// MCP sessions one user may hold over all their grants.
  size_t sessions_per_user = 64;
  /// Tool calls per minute per grant; 0 is unlimited.
  unsigned tool_rate_limit = 120;
  /// Longest wait for the TOKEN AUTHORITY.
  std::chrono::seconds auth_timeout{10};
  /// Longest wait for a tool (the mail engine bounds its own steps first).
  std::chrono::seconds tool_timeout{150};
  /// How long a validated token is trusted without asking the TOKEN
  /// AUTHORITY again (revocations in this process end it at once; see
  /// token_memo); 0 asks on every request.
  std::chrono::milliseconds token_recheck{2000};
  /// get_attachment's download links: their key (from SESSION_SECRET,
  /// else random per process), how long one works, the largest part one
  /// serves.
  std::shared_ptr<const file_links> links = std::make_shared<file_links>();
  std::chrono::seconds link_ttl{600};
  uint64_t link_max_bytes = 26214400;

  static mcp_settings from(const config& cfg);

  /// The resource identifier of the endpoint: BASE_URL + "/mcp".
  std::string resource() const;
  /// RFC 9728 metadata URL of the resource.
  std::string resource_metadata() const;
};

/// "scheme://host[:port]" in lower case without a default port, or empty
/// if `url` is not an http(s) URL. Paths are dropped.
std::string normalize_origin(std::string_view url);

/// For a normalized origin whose host is localhost, 127.0.0.1 or [::1]:
/// "scheme://loopback[:port]", the same for all three names; else empty.
std::string loopback_key(std::string_view origin);

/// The token of an `Authorization: Bearer ...` header (scheme
/// case-insensitive), or empty. `malformed` is set when the scheme is
/// Bearer but the token is not a valid b64token.
std::string bearer_token(std::string_view authorization, bool& malformed);

/// The actors the endpoint talks to.
struct mcp_actors {
  token_authority_actor tokens;
  mail_actor mail;
  /// For the audit log.
  directory_actor directory;
  /// Where sending tools of connections that ask first put their messages.
  outbox_actor outbox;
  /// The running ACCOUNT of each mailbox: a call goes straight to it, and
  /// through `mail` only when there is none (may be null: always `mail`).
  std::shared_ptr<const account_index> accounts;
};

/// MCP over Streamable HTTP at /mcp: the transport (HTTP status codes,
/// headers, sessions, authentication) here; the JSON-RPC methods in
/// mcp_methods (one table, so the stateless 2026-07-28 era can be added as
/// another transport path feeding the same methods).
class mcp_endpoint : public std::enable_shared_from_this<mcp_endpoint> {
public:
  mcp_endpoint(caf::actor_system& sys, mcp_actors actors,
               mcp_settings settings);
  ~mcp_endpoint();

  /// POST /mcp: one JSON-RPC message.
  void post(const request& req, const responder& respond);
  /// GET /mcp: no server-initiated stream (405).
  void get(const request& req, const responder& respond);
  /// DELETE /mcp: ends the caller's session.
  void remove(const request& req, const responder& respond);
  /// OPTIONS /mcp: CORS preflight for browser origins that are allowed.
  void preflight(const request& req, const responder& respond);

  /// Whether a request's Origin header is acceptable (absent is).
  bool origin_allowed(std::string_view origin) const;

  mcp_session_table& sessions();
  const mcp_settings& settings() const;

  struct impl;

private:
  std::shared_ptr<impl> impl_;
};

/// Routes POST, GET, DELETE and OPTIONS of exactly /mcp to the endpoint.
void add_mcp_routes(router& r, std::shared_ptr<mcp_endpoint> endpoint);

/// GET /files/<opaque>: downloads through get_attachment's links
/// (file_route.cpp).
void add_file_routes(router& r, caf::actor_system& sys,
                     const mcp_actors& actors, const mcp_settings& settings);

} // namespace postern::http
