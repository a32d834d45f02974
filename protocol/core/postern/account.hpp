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
  /// Unix seconds.
  int64_t created_at = 0;
  int64_t updated_at = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, account_settings& x) {
  return f(caf::meta::type_name("account_settings"), x.id, x.owner, x.label,
           x.imap, x.ca_file, x.has_smtp, x.smtp, x.smtp_own_password,
           x.aliases, x.created_at, x.updated_at);
}

/// The account's own email address (the sender of what it sends): the SMTP
/// login when it is an address, else the IMAP login; empty when neither is.
std::string email_address(const account_settings& s);

/// How many aliases one account may carry.
inline constexpr size_t max_account_aliases = 20;

/// Every address the account may send as: email_address() (when it is one)
/// first, then the aliases.
std::vector<std::string> sender_addresses(const account_settings& s);

/// The passwords of one account, in plaintext. Only the VAULT (sealing)
/// and the mail engine (logging in) ever hold one.
struct account_credentials {
  secret imap_password;
  /// Empty when SMTP uses the IMAP password.
  secret smtp_password;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, account_credentials& x) {
  return f(caf::meta::type_name("account_credentials"), x.imap_password,
           x.smtp_password);
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
