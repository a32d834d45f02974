// SPDX-License-Identifier: Apache-2.0
#include "postern/process/command_line.hpp"

#include "option_table.hpp"
#include "postern/error.hpp"
#include "postern/host_policy.hpp"
#include "postern/text.hpp"
#include "postern/version.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <limits>

namespace postern {

using namespace cli;

namespace {

/// Each entry must be an origin: scheme "://" host [":" port], nothing more.
caf::error check_origin_list(const std::string& text) {
  size_t start = 0;
  while (start <= text.size()) {
    auto end = text.find(',', start);
    if (end == std::string::npos)
      end = text.size();
    auto item = text.substr(start, end - start);
    while (!item.empty() && item.front() == ' ')
      item.erase(0, 1);
    while (!item.empty() && item.back() == ' ')
      item.pop_back();
    if (!item.empty()) {
      auto sep = item.find("://");
      auto scheme = sep == std::string::npos ? std::string{}
                                             : item.substr(0, sep);
      auto rest = sep == std::string::npos ? std::string{}
                                           : item.substr(sep + 3);
      if ((scheme != "http" && scheme != "https") || rest.empty()
          || rest.find_first_of("/?#@ ") != std::string::npos)
        return bad(
          "ALLOWED_ORIGINS must list origins like https://app.example.com "
          "(scheme, host and optional port, no path), got \""
          + item + "\"");
    }
    start = end + 1;
  }
  return caf::none;
}

const std::vector<option>& options() {
  static const std::vector<option> result = [] {
    std::vector<option> all{
    {"--base-url", "BASE_URL", "URL",
     "public URL of this server (default http://localhost:PORT)",
     string_setter(&config::base_url)},
    {"--bind", "BIND", "ADDRESS", "address to listen on (default 127.0.0.1)",
     string_setter(&config::bind)},
    {"--port", "PORT", "N", "TCP port (default 3000; 0 picks a free port)",
     unsigned_setter(&config::port, "PORT", 65535)},
    {"--data-dir", "DATA_DIR", "DIR",
     "database and generated keys (default ./data)",
     string_setter(&config::data_dir)},
    {"--encryption-key", "ENCRYPTION_KEY", "HEX",
     "64 hex chars protecting stored credentials (generated into DATA_DIR "
     "when absent; prefer the variable: flags are visible in ps)",
     secret_setter(&config::encryption_key)},
    {"--session-secret", "SESSION_SECRET", "TEXT",
     "64 hex chars keying web sessions (generated into DATA_DIR when absent)",
     secret_setter(&config::session_secret)},
    };
    // Mail providers' sign-in and finding a new account's settings:
    // mail_setup_options.cpp.
    for (auto& o : mail_setup_options())
      all.push_back(std::move(o));
    std::vector<option> rest{
    {"--tls-cert-file", "TLS_CERT_FILE", "PEM",
     "serve HTTPS with this certificate chain",
     string_setter(&config::tls_cert_file)},
    {"--tls-key-file", "TLS_KEY_FILE", "PEM", "private key for TLS_CERT_FILE",
     string_setter(&config::tls_key_file)},
    {"--trust-proxy", "TRUST_PROXY", "BOOL",
     "take client addresses from X-Forwarded-For (default false)",
     [](config& cfg, const std::string& text, bool) -> caf::error {
       auto value = parse_bool("TRUST_PROXY", text);
       if (!value)
         return value.error();
       cfg.trust_proxy = *value;
       return caf::none;
     }},
    {"--trusted-proxies", "TRUSTED_PROXIES", "LIST",
     "with TRUST_PROXY: the proxies (CIDR ranges, \"loopback\", \"private\") "
     "whose X-Forwarded-For and Forwarded entries count; the client is the "
     "right-most address not in this list (default loopback)",
     [](config& cfg, const std::string& text, bool) -> caf::error {
       auto policy = host_policy::parse(text);
       if (!policy) {
         // host_policy names ACCOUNT_HOST_DENY; say which setting it was.
         auto why = describe(policy.error());
         constexpr std::string_view other = "ACCOUNT_HOST_DENY";
         if (why.compare(0, other.size(), other) == 0)
           why.replace(0, other.size(), "TRUSTED_PROXIES");
         return bad(why);
       }
       cfg.trusted_proxies = text;
       return caf::none;
     }},
    {"--http-threads", "HTTP_THREADS", "N",
     "HTTP worker threads (default: one per core)",
     unsigned_setter(&config::http_threads, "HTTP_THREADS", 256)},
    {"--max-body-bytes", "MAX_BODY_BYTES", "N",
     "largest accepted request body (default 1048576)",
     unsigned_setter(&config::max_body_bytes, "MAX_BODY_BYTES",
                     64ull * 1024 * 1024)},
    {"--request-timeout", "REQUEST_TIMEOUT_SECONDS", "S",
     "seconds to receive one request (default 30)",
     unsigned_setter(&config::request_timeout_seconds,
                     "REQUEST_TIMEOUT_SECONDS", 3600)},
    {"--idle-timeout", "IDLE_TIMEOUT_SECONDS", "S",
     "seconds a keep-alive connection may idle (default 60)",
     unsigned_setter(&config::idle_timeout_seconds, "IDLE_TIMEOUT_SECONDS",
                     3600)},
    {"--signup", "SIGNUP", "POLICY",
     "who may create a dashboard login: open, invite or closed (default open)",
     [](config& cfg, const std::string& text, bool) -> caf::error {
       if (text == "open")
         cfg.signup = signup_policy::open;
       else if (text == "invite")
         cfg.signup = signup_policy::invite;
       else if (text == "closed")
         cfg.signup = signup_policy::closed;
       else
         return bad("SIGNUP must be open, invite or closed, got \"" + text
                    + "\"");
       return caf::none;
     }},
    {"--account-host-deny", "ACCOUNT_HOST_DENY", "LIST",
     "mail server addresses users may not use: CIDR ranges, \"private\", "
     "\"loopback\" or \"none\" (default private)",
     [](config& cfg, const std::string& text, bool) -> caf::error {
       auto policy = host_policy::parse(text);
       if (!policy)
         return policy.error();
       cfg.account_host_deny = text;
       return caf::none;
     }},
    {"--client-metadata-allow-loopback", "CLIENT_METADATA_ALLOW_LOOPBACK",
     "BOOL",
     "tests only: fetch OAuth client metadata and mail autoconfig documents "
     "from loopback addresses (default false)",
     [](config& cfg, const std::string& text, bool) -> caf::error {
       auto value = parse_bool("CLIENT_METADATA_ALLOW_LOOPBACK", text);
       if (!value)
         return value.error();
       cfg.client_metadata_allow_loopback = *value;
       return caf::none;
     }},
    {"--test-clock-file", "TEST_CLOCK_FILE", "FILE",
     "tests only: throttles, expiries and memos use a clock that stands still "
     "until the number of seconds in FILE grows (default: the real clock)",
     string_setter(&config::test_clock_file)},
    {"--audit-retention-days", "AUDIT_RETENTION_DAYS", "D",
     "audit log entries older than this are pruned; 0 keeps them forever "
     "(default 90)",
     unsigned_setter(&config::audit_retention_days, "AUDIT_RETENTION_DAYS",
                     36500)},
    {"--session-ttl-hours", "SESSION_TTL_HOURS", "H",
     "dashboard login lifetime (default 24)",
     unsigned_setter(&config::session_ttl_hours, "SESSION_TTL_HOURS",
                     24 * 365)},
    {"--outbox-ttl-hours", "OUTBOX_TTL_HOURS", "H",
     "a message held for its person's yes expires after this long "
     "(default 24)",
     unsigned_setter(&config::outbox_ttl_hours, "OUTBOX_TTL_HOURS",
                     24 * 30)},
    {"--metrics-token", "METRICS_TOKEN", "TEXT",
     "bearer token /metrics requires (without it /metrics is off unless "
     "METRICS_OPEN)",
     secret_setter(&config::metrics_token)},
    {"--metrics-open", "METRICS_OPEN", "BOOL",
     "serve /metrics without a token to anyone who can reach it (default "
     "false)",
     [](config& cfg, const std::string& text, bool) -> caf::error {
       auto value = parse_bool("METRICS_OPEN", text);
       if (!value)
         return value.error();
       cfg.metrics_open = *value;
       return caf::none;
     }},
    {"--max-imap-connections", "MAX_IMAP_CONNECTIONS", "N",
     "IMAP connections of the whole server (default 1000)",
     unsigned_setter(&config::max_imap_connections, "MAX_IMAP_CONNECTIONS",
                     100000)},
    {"--max-connections-per-user", "MAX_CONNECTIONS_PER_USER", "N",
     "IMAP connections of one user (default 6)",
     unsigned_setter(&config::max_connections_per_user,
                     "MAX_CONNECTIONS_PER_USER", 100)},
    {"--account-pool-size", "ACCOUNT_POOL_SIZE", "N",
     "IMAP connections per email account (default 3)",
     unsigned_setter(&config::account_pool_size, "ACCOUNT_POOL_SIZE", 20)},
    {"--mail-timeout", "MAIL_TIMEOUT_SECONDS", "S",
     "bound for each IMAP/SMTP network step (default 30)",
     unsigned_setter(&config::mail_timeout_seconds, "MAIL_TIMEOUT_SECONDS",
                     600)},
    {"--connection-tests-per-hour", "CONNECTION_TESTS_PER_HOUR", "N",
     "connection tests one user may start per hour, one at a time (default "
     "30)",
     unsigned_setter(&config::connection_tests_per_hour,
                     "CONNECTION_TESTS_PER_HOUR", 10000)},
    {"--mail-idle", "MAIL_IDLE_SECONDS", "S",
     "idle IMAP connections are closed after this (default 300)",
     unsigned_setter(&config::mail_idle_seconds, "MAIL_IDLE_SECONDS", 86400)},
    {"--login-failure-cache", "LOGIN_FAILURE_CACHE_SECONDS", "S",
     "a rejected mail login is reported without retrying for this long "
     "(default 60)",
     unsigned_setter(&config::login_failure_cache_seconds,
                     "LOGIN_FAILURE_CACHE_SECONDS", 3600)},
    {"--mcp-session-idle", "MCP_SESSION_IDLE_SECONDS", "S",
     "an MCP session unused this long ends (default 3600)",
     unsigned_setter(&config::mcp_session_idle_seconds,
                     "MCP_SESSION_IDLE_SECONDS", 7 * 86400)},
    {"--mcp-sessions-per-grant", "MCP_SESSIONS_PER_GRANT", "N",
     "MCP sessions one connected agent may hold (default 16)",
     unsigned_setter(&config::mcp_sessions_per_grant, "MCP_SESSIONS_PER_GRANT",
                     1000)},
    {"--mcp-sessions-per-user", "MCP_SESSIONS_PER_USER", "N",
     "MCP sessions one user may hold over all connected agents (default 64)",
     unsigned_setter(&config::mcp_sessions_per_user, "MCP_SESSIONS_PER_USER",
                     100000)},
    {"--allowed-origins", "ALLOWED_ORIGINS", "LIST",
     "browser origins allowed on /mcp besides BASE_URL's, comma-separated "
     "(unset: the original's CORS_ORIGIN, unless it is *)",
     [](config& cfg, const std::string& text, bool) -> caf::error {
       if (auto err = check_origin_list(text))
         return err;
       cfg.allowed_origins = text;
       return caf::none;
     }},
    {"--tool-rate-limit", "TOOL_RATE_LIMIT", "N",
     "tool calls per minute per connected agent; 0 turns the limit off "
     "(default 120)",
     unsigned_setter(&config::tool_rate_limit, "TOOL_RATE_LIMIT", 1000000)},
    {"--message-cache-mb", "MESSAGE_CACHE_MB", "N",
     "memory for decoded message texts shared by all accounts (default 64; "
     "0 turns it off)",
     unsigned_setter(&config::message_cache_mb, "MESSAGE_CACHE_MB", 65536)},
    {"--imap-max-literal-bytes", "IMAP_MAX_LITERAL_BYTES", "N",
     "largest literal an IMAP server may send (default 4194304; 0: no "
     "limit)",
     unsigned_setter(&config::imap_max_literal_bytes, "IMAP_MAX_LITERAL_BYTES",
                     1ull << 40)},
    {"--imap-max-response-bytes", "IMAP_MAX_RESPONSE_BYTES", "N",
     "largest IMAP response with its literals (default 8388608; 0: no limit)",
     unsigned_setter(&config::imap_max_response_bytes,
                     "IMAP_MAX_RESPONSE_BYTES", 1ull << 40)},
    {"--imap-max-operation-bytes", "IMAP_MAX_OPERATION_BYTES", "N",
     "most bytes an IMAP server may send for one command (default 67108864; "
     "0: no limit)",
     unsigned_setter(&config::imap_max_operation_bytes,
                     "IMAP_MAX_OPERATION_BYTES", 1ull << 40)},
    {"--imap-max-items", "IMAP_MAX_ITEMS", "N",
     "most items in one IMAP answer: UIDs of a SEARCH, lines of a LIST, "
     "... (default 250000; 0: no limit)",
     unsigned_setter(&config::imap_max_items, "IMAP_MAX_ITEMS", 1ull << 32)},
    {"--smtp-max-reply-bytes", "SMTP_MAX_REPLY_BYTES", "N",
     "largest SMTP reply with its continuation lines (default 65536; 0: no "
     "limit)",
     unsigned_setter(&config::smtp_max_reply_bytes, "SMTP_MAX_REPLY_BYTES",
                     1ull << 40)},
    {"--smtp-max-operation-bytes", "SMTP_MAX_OPERATION_BYTES", "N",
     "most bytes an SMTP server may send while connecting or sending one "
     "message (default 1048576; 0: no limit)",
     unsigned_setter(&config::smtp_max_operation_bytes,
                     "SMTP_MAX_OPERATION_BYTES", 1ull << 40)},
    {"--attachment-max-text-bytes", "ATTACHMENT_MAX_TEXT_BYTES", "N",
     "largest text attachment get_attachment returns (default 100000)",
     unsigned_setter(&config::attachment_max_text_bytes,
                     "ATTACHMENT_MAX_TEXT_BYTES", 1u << 30)},
    {"--attachment-max-image-bytes", "ATTACHMENT_MAX_IMAGE_BYTES", "N",
     "largest image get_attachment returns (default 1048576)",
     unsigned_setter(&config::attachment_max_image_bytes,
                     "ATTACHMENT_MAX_IMAGE_BYTES", 1u << 30)},
    {"--attachment-max-file-bytes", "ATTACHMENT_MAX_FILE_BYTES", "N",
     "largest other attachment get_attachment returns (default 100000)",
     unsigned_setter(&config::attachment_max_file_bytes,
                     "ATTACHMENT_MAX_FILE_BYTES", 1u << 30)},
    {"--send-attachments-max-bytes", "SEND_ATTACHMENTS_MAX_BYTES", "N",
     "most bytes of attachments in one sent message or draft (default "
     "10485760)",
     unsigned_setter(&config::send_attachments_max_bytes,
                     "SEND_ATTACHMENTS_MAX_BYTES", 1u << 30)},
    {"--file-link-ttl-seconds", "FILE_LINK_TTL_SECONDS", "S",
     "how long a download link of get_attachment works (default 600)",
     unsigned_setter(&config::file_link_ttl_seconds, "FILE_LINK_TTL_SECONDS",
                     86400)},
    {"--file-link-max-bytes", "FILE_LINK_MAX_BYTES", "N",
     "largest attachment a download link serves (default 26214400)",
     unsigned_setter(&config::file_link_max_bytes, "FILE_LINK_MAX_BYTES",
                     1u << 30)},
    {"--send-rate-limit", "SEND_RATE_LIMIT", "N",
     "messages one account may send per minute; 0 turns the limit off "
     "(default 20)",
     unsigned_setter(&config::send_rate_limit, "SEND_RATE_LIMIT", 1000000)},
    {"--log-level", "LOG_LEVEL", "LEVEL",
     "trace, debug, info, warn or error (default info)",
     string_setter(&config::log_level)},
    {"--log-format", "LOG_FORMAT", "FORMAT", "text or json (default text)",
     string_setter(&config::log_format)},
    };
    for (auto& o : rest)
      all.push_back(std::move(o));
    return all;
  }();
  return result;
}

} // namespace

env_lookup process_environment() {
  return [](const char* name) -> std::optional<std::string> {
    if (auto value = std::getenv(name))
      return std::string{value};
    return std::nullopt;
  };
}

caf::error validate(const config& cfg) {
  // The URL is the OAuth issuer: scheme and host only, optionally a path.
  const auto& url = cfg.base_url;
  auto scheme_end = url.find("://");
  auto scheme = scheme_end == std::string::npos ? std::string{}
                                                : url.substr(0, scheme_end);
  if (scheme != "http" && scheme != "https")
    return bad("BASE_URL must start with http:// or https://, got \"" + url
               + "\"");
  auto authority = url.substr(scheme_end + 3);
  authority = authority.substr(0, authority.find('/'));
  if (authority.empty())
    return bad("BASE_URL has no host: \"" + url + "\"");
  if (url.find_first_of("?#") != std::string::npos)
    return bad("BASE_URL must not contain a query or fragment");
  if (scheme == "http") {
    auto host = authority.substr(0, authority.rfind(':'));
    if (authority.front() == '[')
      host = authority.substr(0, authority.find(']') + 1);
    // OAuth 2.1 requires https for everything but loopback; say so early.
    if (!is_loopback_host(host) && !cfg.tls_enabled())
      return bad("BASE_URL uses http:// for a host other than localhost; "
                 "OAuth clients require https. Put Postern behind a TLS proxy "
                 "with BASE_URL=https://... or set TLS_CERT_FILE/TLS_KEY_FILE");
  }
  if (cfg.bind.empty())
    return bad("BIND must not be empty");
  if (cfg.data_dir.empty())
    return bad("DATA_DIR must not be empty");
  if (cfg.encryption_key && !is_hex_key(cfg.encryption_key->reveal()))
    return bad("ENCRYPTION_KEY must be exactly 64 hexadecimal characters "
               "(32 bytes), got "
               + std::to_string(cfg.encryption_key->size())
               + " characters; generate one with: openssl rand -hex 32");
  // SESSION_SECRET is only ever a key-derivation input (HKDF, see csrf.cpp),
  // so any string works, as in the original; 32 characters is the shortest
  // that still holds enough entropy when a person types a passphrase.
  if (cfg.session_secret
      && cfg.session_secret->size() < min_session_secret_chars)
    return bad("SESSION_SECRET must be at least "
               + std::to_string(min_session_secret_chars)
               + " characters long (a shorter secret can be guessed), got "
               + std::to_string(cfg.session_secret->size())
               + " characters; generate one with: openssl rand -hex 32");
  if (cfg.tls_cert_file.empty() != cfg.tls_key_file.empty())
    return bad("TLS_CERT_FILE and TLS_KEY_FILE must be set together");
  if (cfg.outbox_ttl_hours == 0)
    return bad("OUTBOX_TTL_HOURS must be at least 1: a held message needs "
               "time for its person to say yes");
  static const char* levels[] = {"trace", "debug", "info", "warn", "error"};
  if (std::find(std::begin(levels), std::end(levels), cfg.log_level)
      == std::end(levels))
    return bad("LOG_LEVEL must be one of trace, debug, info, warn, error; got "
               "\""
               + cfg.log_level + "\"");
  if (cfg.log_format != "text" && cfg.log_format != "json")
    return bad("LOG_FORMAT must be text or json, got \"" + cfg.log_format
               + "\"");
  if (cfg.max_body_bytes < 1024)
    return bad("MAX_BODY_BYTES must be at least 1024");
  if (cfg.request_timeout_seconds == 0 || cfg.idle_timeout_seconds == 0
      || cfg.mail_timeout_seconds == 0 || cfg.mail_idle_seconds == 0)
    return bad("timeouts must be at least 1 second");
  if (cfg.account_pool_size == 0 || cfg.max_connections_per_user == 0
      || cfg.max_imap_connections == 0)
    return bad("connection limits must be at least 1");
  return caf::none;
}

namespace {

/// The TypeScript original's CORS_ORIGIN (the browser origin it let call
/// it; unset meant any), read as ALLOWED_ORIGINS when that is not set, so
/// its .env keeps working. Any origin ("*", "true") is not something /mcp
/// admits (DNS rebinding): it is ignored, and the server says so.
caf::error read_cors_origin(config& cfg, const env_lookup& env) {
  if (env("ALLOWED_ORIGINS"))
    return caf::none;
  auto cors = env("CORS_ORIGIN");
  if (!cors)
    return caf::none;
  auto value = std::string{trim_blanks(*cors)};
  if (value.empty())
    return caf::none;
  if (value == "*" || value == "true") {
    cfg.cors_origin_ignored = true;
    return caf::none;
  }
  if (check_origin_list(value))
    return bad("CORS_ORIGIN (the original's name for ALLOWED_ORIGINS) must "
               "list origins like https://app.example.com (scheme, host and "
               "optional port, no path), got \""
               + value + "\"");
  cfg.allowed_origins = value;
  return caf::none;
}

} // namespace

caf::expected<parsed_command_line>
parse_command_line(const std::vector<std::string>& args,
                   const env_lookup& env) {
  parsed_command_line result;
  auto& cfg = result.cfg;
  // Environment first, then flags on top.
  for (auto& opt : options()) {
    if (!opt.env)
      continue;
    if (auto value = env(opt.env))
      if (auto err = opt.set(cfg, *value, false))
        return err;
  }
  if (auto err = read_cors_origin(cfg, env))
    return err;
  for (size_t i = 0; i < args.size(); ++i) {
    const auto& arg = args[i];
    if (arg == "-h" || arg == "--help" || arg == "help") {
      result.what = command::help;
      return result;
    }
    if (arg == "--version" || arg == "version") {
      result.what = command::version;
      return result;
    }
    if (arg == "serve" && i == 0)
      continue;
    if (arg == "admin" && i == 0) {
      // Admin commands parse their own arguments; global settings come
      // from the environment (and --data-dir, which they accept too).
      result.what = command::admin;
      result.admin_args.assign(args.begin() + 1, args.end());
      break;
    }
    // Accept both "--flag value" and "--flag=value".
    auto eq = arg.find('=');
    auto name = arg.substr(0, eq);
    auto opt = std::find_if(options().begin(), options().end(),
                            [&](const option& o) { return name == o.flag; });
    if (opt == options().end())
      return bad("unknown argument \"" + name + "\"; see postern --help");
    std::string value;
    if (eq != std::string::npos)
      value = arg.substr(eq + 1);
    else if (i + 1 < args.size())
      value = args[++i];
    else
      return bad(std::string{opt->flag} + " needs a value");
    if (auto err = opt->set(cfg, value, true))
      return err;
  }
  if (cfg.base_url.empty())
    cfg.base_url = "http://localhost:" + std::to_string(cfg.port);
  while (cfg.base_url.size() > 1 && cfg.base_url.back() == '/')
    cfg.base_url.pop_back();
  if (auto err = validate(cfg))
    return err;
  return result;
}

std::string usage() {
  std::string result = "Postern " + std::string{version}
                       + R"( - email for AI agents over MCP, safely

Usage:
  postern [serve] [OPTIONS]   run the server
  postern admin COMMAND ...   operator commands (postern admin help)
  postern --help              show this text
  postern --version           show the version

Every option can also be set through the environment variable in brackets;
flags win over the environment.

Options:
)";
  for (auto& opt : options()) {
    std::string left = "  " + std::string{opt.flag};
    if (opt.arg)
      left += " " + std::string{opt.arg};
    if (opt.env)
      left += " [" + std::string{opt.env} + "]";
    result += left + "\n      " + opt.help + "\n";
  }
  result += R"(
On first start without ENCRYPTION_KEY / SESSION_SECRET, Postern generates both,
stores them in DATA_DIR with mode 0600 and warns loudly: back them up, since
stored mail credentials cannot be decrypted without ENCRYPTION_KEY.
)";
  return result;
}

} // namespace postern
