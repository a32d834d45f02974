// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "postern/ids.hpp"

#include <caf/meta/type_name.hpp>

#include <cstdint>
#include <string>

namespace postern {

/// What the DIRECTORY tells about a user (never the password hash).
struct user_info {
  user_id id;
  std::string username;
  /// Unix seconds.
  int64_t created_at = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, user_info& x) {
  return f(caf::meta::type_name("user_info"), x.id, x.username, x.created_at);
}

/// A new web session: the id goes into the cookie; only its hash is stored.
struct session_grant {
  user_info user;
  /// The cookie value (random, 256 bits). Never logged.
  std::string token;
  /// Unix seconds.
  int64_t expires_at = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, session_grant& x) {
  std::string redacted = "[redacted]";
  return f(caf::meta::type_name("session_grant"), x.user, redacted,
           x.expires_at);
}

/// One security-relevant event of the audit log.
struct audit_event {
  /// Unix milliseconds.
  int64_t time_ms = 0;
  /// The user concerned (may be empty for failed logins of unknown users).
  user_id user;
  /// Who acted: "web", "admin", "system", or an OAuth client id.
  std::string actor;
  /// What happened, e.g. "login", "account.add", "tool.list_messages".
  std::string action;
  /// What it concerned, e.g. an account id; never a secret.
  std::string target;
  /// "ok" or a short failure reason.
  std::string outcome;
  /// Where from (client IP), if known.
  std::string address;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, audit_event& x) {
  return f(caf::meta::type_name("audit_event"), x.time_ms, x.user, x.actor,
           x.action, x.target, x.outcome, x.address);
}

/// Who may create an account through the web (SIGNUP).
enum class signup_policy : uint8_t {
  open = 1,
  invite = 2,
  closed = 3,
};

} // namespace postern
