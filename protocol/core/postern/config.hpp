// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "postern/directory_types.hpp"
#include "postern/secret.hpp"

#include <caf/expected.hpp>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace postern {

/// Server configuration, read from the TypeScript original's environment
/// variables (so Postern is a drop-in replacement) and from command-line
/// flags, which take precedence. Defaults live in `defaults()`.
struct config {
  /// Public URL of this server; the OAuth issuer and the base of every link.
  /// Decides the public scheme behind a TLS-terminating proxy.
  std::string base_url;
  /// Address to listen on (BIND); loopback by default for a local run.
  std::string bind = "127.0.0.1";
  /// TCP port (PORT); 0 picks a free one (tests).
  uint16_t port = 3000;
  /// Directory of the LMDB environment and the generated key files.
  std::string data_dir = "./data";
  /// 32-byte key (64 hex chars) protecting stored credentials; generated and
  /// kept in data_dir when absent.
  std::optional<secret> encryption_key;
  /// Key for web sessions and CSRF tokens; generated when absent.
  std::optional<secret> session_secret;
  /// Serve HTTPS natively when both are set.
  std::string tls_cert_file;
  std::string tls_key_file;
  /// Take the client address from X-Forwarded-For and Forwarded (only
  /// behind a proxy), as far as the proxies of `trusted_proxies` vouch.
  bool trust_proxy = false;
  /// The proxies whose forwarding headers count (TRUSTED_PROXIES): CIDR
  /// ranges in host_policy's syntax; loopback by default.
  std::string trusted_proxies = "loopback";
  /// Threads running the HTTP io_context; 0 means one per core.
  unsigned http_threads = 0;
  /// Largest accepted request body in bytes.
  uint64_t max_body_bytes = 1024 * 1024;
  /// Seconds a connection may take to send a request (slowloris guard).
  unsigned request_timeout_seconds = 30;
  /// Seconds a keep-alive connection may stay idle between requests.
  unsigned idle_timeout_seconds = 60;
  /// Who may sign up through the web (SIGNUP).
  signup_policy signup = signup_policy::open;
  /// Mail server addresses users may not use (ACCOUNT_HOST_DENY); see
  /// host_policy. The default keeps users off internal networks.
  std::string account_host_deny = "private";
  /// Lifetime of a dashboard login.
  unsigned session_ttl_hours = 24;
  /// A message held for its person's yes expires after this long unless
  /// sent or discarded (OUTBOX_TTL_HOURS).
  unsigned outbox_ttl_hours = 24;
  /// Audit events older than this are pruned (AUDIT_RETENTION_DAYS); 0
  /// keeps them forever. A deleted user's events go with the user.
  unsigned audit_retention_days = 90;
  /// Mail providers accounts may sign in to by OAuth: the built-in
  /// Microsoft one when MICROSOFT_CLIENT_ID is set (MICROSOFT_TENANT,
  /// default "common"), Google when GOOGLE_CLIENT_ID is set, and those a
  /// JSON file lists (MAIL_OAUTH_PROVIDERS).
  std::string microsoft_client_id;
  std::optional<secret> microsoft_client_secret;
  std::string microsoft_tenant = "common";
  std::string google_client_id;
  std::optional<secret> google_client_secret;
  std::string mail_oauth_providers;
  /// Where "Add an email account" asks DNS for a domain's SRV records and
  /// its autoconfig host's addresses (MAIL_SETUP_DNS): empty for the
  /// system's resolver, "off" for no lookups at all, or one IPv4 name
  /// server as "address[:port]".
  std::string mail_setup_dns;
  /// For tests only (TEST_AUTOCONFIG_PORT): the port autoconfig documents
  /// are fetched from instead of 443.
  uint16_t test_autoconfig_port = 443;
  /// For tests only (CLIENT_METADATA_ALLOW_LOOPBACK): OAuth client metadata
  /// and mail autoconfig documents may be fetched from loopback addresses.
  /// Private and link-local addresses are refused regardless.
  bool client_metadata_allow_loopback = false;
  /// For tests only (TEST_CLOCK_FILE): the server's clocks for throttles,
  /// expiries and memos stand still, moved forward by the seconds written
  /// in this file (see set_test_clock_file). Empty: the real clocks.
  std::string test_clock_file;

  /// Bearer token for /metrics (METRICS_TOKEN); without it /metrics is off
  /// unless `metrics_open`.
  std::optional<secret> metrics_token;
  /// Serve /metrics to anyone (METRICS_OPEN): only when the operator says
  /// so, since a proxy on the same host makes even a loopback BIND public.
  bool metrics_open = false;

  // -- mail engine
  // --------------------------------------------------------------

  /// IMAP connections of the whole server (MAX_IMAP_CONNECTIONS).
  unsigned max_imap_connections = 1000;
  /// IMAP connections of one user over all their accounts.
  unsigned max_connections_per_user = 6;
  /// IMAP connections one account keeps at most (never above the per-user
  /// limit; mail servers allow about 10 per user and address).
  unsigned account_pool_size = 3;
  /// Bound for each network step of IMAP and SMTP.
  unsigned mail_timeout_seconds = 30;
  /// Connection tests ("Test connection") one user may start per hour
  /// (CONNECTION_TESTS_PER_HOUR); one runs at a time per user.
  unsigned connection_tests_per_hour = 30;
  /// Idle IMAP connections are closed after this long.
  unsigned mail_idle_seconds = 300;
  /// A rejected login is reported at once, without retrying, for this long.
  unsigned login_failure_cache_seconds = 60;
  /// Memory for decoded message texts shared by all accounts (0: off).
  unsigned message_cache_mb = 64;
  /// Byte budgets on what mail servers send (0: no limit): the largest IMAP
  /// literal, response and answer to one command, the most items in one
  /// answer; the largest SMTP reply and answer to one command. A server
  /// over budget gets its connection dropped.
  uint64_t imap_max_literal_bytes = 4 * 1024 * 1024;
  uint64_t imap_max_response_bytes = 8 * 1024 * 1024;
  uint64_t imap_max_operation_bytes = 64 * 1024 * 1024;
  uint64_t imap_max_items = 250000;
  uint64_t smtp_max_reply_bytes = 64 * 1024;
  uint64_t smtp_max_operation_bytes = 1024 * 1024;

  // -- composing
  // ------------------------------------------------------------------

  /// The largest attachment get_attachment hands out (decoded bytes): text
  /// (ATTACHMENT_MAX_TEXT_BYTES), images (ATTACHMENT_MAX_IMAGE_BYTES) and
  /// other files (ATTACHMENT_MAX_FILE_BYTES).
  unsigned attachment_max_text_bytes = 100000;
  unsigned attachment_max_image_bytes = 1048576;
  unsigned attachment_max_file_bytes = 100000;
  /// The most bytes of attachments one sent message or draft may carry
  /// (SEND_ATTACHMENTS_MAX_BYTES).
  unsigned send_attachments_max_bytes = 10485760;
  /// get_attachment's links to download one part (<BASE_URL>/files/...):
  /// how long each works (FILE_LINK_TTL_SECONDS) and the largest part
  /// one serves (FILE_LINK_MAX_BYTES, decoded bytes).
  unsigned file_link_ttl_seconds = 600;
  unsigned file_link_max_bytes = 26214400;
  /// Messages one account may send per minute (SEND_RATE_LIMIT); 0: off.
  unsigned send_rate_limit = 20;

  // -- MCP endpoint
  // ---------------------------------------------------------------

  /// An MCP session unused for this long ends (the client re-initializes).
  unsigned mcp_session_idle_seconds = 3600;
  /// MCP sessions one grant may hold; the least recently used one ends
  /// when a new one would exceed it.
  unsigned mcp_sessions_per_grant = 16;
  /// MCP sessions one user may hold over all their grants; beyond it a new
  /// one is refused (429), nobody's session is ended for it.
  unsigned mcp_sessions_per_user = 64;
  /// Browser origins allowed on /mcp besides BASE_URL's own, comma-separated
  /// ("https://app.example.com,http://localhost:5173").
  std::string allowed_origins;
  /// Tool calls per minute per grant (TOOL_RATE_LIMIT); 0 turns it off.
  unsigned tool_rate_limit = 120;
  /// trace, debug, info, warn, error.
  std::string log_level = "info";
  /// "text" for people, "json" for log collectors.
  std::string log_format = "text";
  /// Set when a secret came from the command line, where other local users
  /// can read it in /proc; main() warns about it.
  bool secret_on_command_line = false;
  /// Set when the original's CORS_ORIGIN asked for every origin ("*" or
  /// "true"), which /mcp never admits; the server says so at start.
  bool cors_origin_ignored = false;

  /// True when both TLS files are configured.
  bool tls_enabled() const {
    return !tls_cert_file.empty();
  }
};

/// True for exactly 64 hexadecimal characters (a 32-byte key).
bool is_hex_key(const std::string& text);

/// The shortest SESSION_SECRET accepted. The secret is only the input of a
/// key derivation, so any string of this length works (the original took
/// any string); generated secrets are 64 hexadecimal characters.
inline constexpr size_t min_session_secret_chars = 32;

} // namespace postern
