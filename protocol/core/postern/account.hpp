// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "postern/ids.hpp"
#include "postern/secret.hpp"

#include <caf/meta/type_name.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace postern {

/// How a mail connection is protected.
enum class transport_security : uint8_t {
  /// TLS from the first byte (IMAPS 993, SMTPS 465).
  tls = 1,
  /// Plain connection upgraded with STARTTLS, which is then required.
  starttls = 2,
  /// No encryption: only for loopback hosts, and only when asked for.
  plain = 3,
};

/// "tls", "starttls" or "plain".
std::string_view to_string(transport_security x);

/// Parses "tls", "starttls" or "plain" (case-insensitive).
std::optional<transport_security> parse_transport_security(std::string_view s);

/// How Postern proves who it is to a mail server.
enum class sasl_mechanism : uint8_t {
  /// IMAP LOGIN / SMTP AUTH PLAIN with the account's password.
  password = 0,
  /// AUTHENTICATE XOAUTH2 with an OAuth access token (Google, Microsoft).
  xoauth2 = 1,
  /// AUTHENTICATE OAUTHBEARER (RFC 7628) with an OAuth access token.
  oauthbearer = 2,
};

/// "password", "XOAUTH2" or "OAUTHBEARER".
std::string_view to_string(sasl_mechanism x);

/// Parses "XOAUTH2" or "OAUTHBEARER" (case-insensitive); not "password".
std::optional<sasl_mechanism> parse_sasl_mechanism(std::string_view s);

/// Where and how to reach one mail server.
struct server_settings {
  std::string host;
  uint16_t port = 0;
  transport_security security = transport_security::tls;
  /// Login name on that server.
  std::string username;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, server_settings& x) {
  return f(caf::meta::type_name("server_settings"), x.host, x.port, x.security,
           x.username);
}

/// The non-secret settings of one email account (the DIRECTORY owns them).
struct account_settings {
  account_id id;
  user_id owner;
  /// The user's name for it ("Work", "Personal").
  std::string label;
  server_settings imap;
  /// A PEM file of extra trusted CAs for a private mail server (operator
  /// set); empty uses the system's CAs.
  std::string ca_file;
  /// SMTP is optional; without it the account cannot send.
  bool has_smtp = false;
  server_settings smtp;
  /// True when SMTP has its own password (else the IMAP one is used).
  bool smtp_own_password = false;
  /// Further From addresses the mail server accepts for this login (a
  /// person's aliases), besides email_address(); plain "local@domain",
  /// none twice, at most max_account_aliases.
  std::vector<std::string> aliases;
  /// The mail provider (MAIL_OAUTH_PROVIDERS, or the built-in "microsoft"
  /// and "google") this account signs in with by OAuth; empty for an
  /// account with passwords.
  std::string oauth_provider;
  /// The provider refused the stored refresh token (revoked, expired, the
  /// password changed): the person must sign in to the provider again
  /// (Reconnect on the dashboard). Cleared by a successful sign-in.
  bool needs_signin = false;
  /// Unix seconds.
  int64_t created_at = 0;
  int64_t updated_at = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, account_settings& x) {
  return f(caf::meta::type_name("account_settings"), x.id, x.owner, x.label,
           x.imap, x.ca_file, x.has_smtp, x.smtp, x.smtp_own_password,
           x.aliases, x.oauth_provider, x.needs_signin, x.created_at,
           x.updated_at);
}

/// The account's own email address (the sender of what it sends): the SMTP
/// login when it is an address, else the IMAP login; empty when neither is.
std::string email_address(const account_settings& s);

/// How many aliases one account may carry.
inline constexpr size_t max_account_aliases = 20;

/// Every address the account may send as: email_address() (when it is one)
/// first, then the aliases.
std::vector<std::string> sender_addresses(const account_settings& s);

/// A mail provider's short name as accounts store it: 1 to 32 lower-case
/// letters, digits, "-" or "_".
bool is_provider_name(std::string_view name);

/// Whether the account signs in by OAuth instead of with passwords.
inline bool uses_oauth(const account_settings& s) {
  return !s.oauth_provider.empty();
}

/// The secrets of one account, in plaintext. Only the VAULT (sealing) and
/// the mail engine (logging in) ever hold one.
struct account_credentials {
  /// Empty for an OAuth account.
  secret imap_password;
  /// Empty when SMTP uses the IMAP password.
  secret smtp_password;
  /// The mail provider's refresh token (OAuth accounts only): what gets a
  /// fresh access token, which lives in memory only.
  secret oauth_refresh_token;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, account_credentials& x) {
  return f(caf::meta::type_name("account_credentials"), x.imap_password,
           x.smtp_password, x.oauth_refresh_token);
}

/// What a mail provider's token endpoint issued for an OAuth account.
struct oauth_access {
  /// Memory only: the ACCOUNT's to log in with, never stored.
  secret access_token;
  /// Seconds from issue until the provider stops accepting it.
  int64_t expires_in = 3600;
  /// A new refresh token when the provider rotated it (stored at once),
  /// else empty.
  secret refresh_token;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, oauth_access& x) {
  return f(caf::meta::type_name("oauth_access"), x.access_token, x.expires_in,
           x.refresh_token);
}

/// An account's passwords sealed by the VAULT, ready to be stored in the
/// `credentials` table in the same transaction as the account itself.
struct sealed_credentials {
  std::string record;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, sealed_credentials& x) {
  return f(caf::meta::type_name("sealed_credentials"), x.record);
}

} // namespace postern
