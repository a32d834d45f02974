// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "postern/secret.hpp"

#include <string>
#include <string_view>

namespace postern::http {

/// Makes and checks the CSRF tokens of HTML forms.
///
/// A token is HMAC-SHA-256 over what it is bound to, under a key derived
/// from SESSION_SECRET with HKDF (info "postern csrf v1"): bound to the
/// session cookie for a logged-in person, or to the pre-session cookie on
/// the login and sign-up forms. Nothing is stored; a token is valid exactly
/// as long as its cookie, and a new login (a new session id) makes new
/// tokens. Another site can neither read the cookie nor compute the token.
class csrf_keys {
public:
  /// A random key (tests, or a server without SESSION_SECRET).
  csrf_keys();

  /// The key derived from SESSION_SECRET.
  explicit csrf_keys(const secret& session_secret);

  /// The token for `binding` (base64url, 43 characters).
  std::string token(std::string_view binding) const;

  /// True if `token` is the token for `binding` (constant time). An empty
  /// binding never matches.
  bool check(std::string_view binding, std::string_view token) const;

private:
  secret key_;
};

/// The binding of a logged-in person's forms.
std::string session_binding(std::string_view session_token);

/// The binding of forms shown before login (pre-session cookie).
std::string pre_session_binding(std::string_view pre_session_token);

} // namespace postern::http
