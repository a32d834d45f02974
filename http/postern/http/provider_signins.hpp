// SPDX-License-Identifier: Apache-2.0
#pragma once

// The sign-ins at a mail provider that the dashboard has sent a browser off
// to and not yet seen come back (authorization code + PKCE, issue 16).

#include "postern/ids.hpp"
#include "postern/secret.hpp"

#include <caf/expected.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace postern::http {

/// One sign-in in progress: who started it, from which login, and what to
/// do with the answer.
struct provider_signin {
  user_id user;
  /// SHA-256 of the session cookie that started it: the callback must come
  /// back in the same login (so a link from someone else's sign-in cannot
  /// attach their mailbox to this person's account, or the reverse).
  std::string session_hash;
  /// The provider's short name.
  std::string provider;
  /// The mailbox's address (the IMAP and SMTP login) and its name.
  std::string address;
  std::string label;
  /// Set for Reconnect: the account whose sign-in this renews.
  std::optional<account_id> reconnect;
  /// The PKCE code verifier (RFC 7636), sent only to the token endpoint.
  secret verifier;
};

/// The sign-ins in flight, by `state`. Each is answered once, within
/// `lifetime`; a person has at most `per_user` (a new one drops their
/// oldest) and the server at most `max_total`, so nobody fills the table
/// for everyone. Keys are hashes of the state, which itself is never
/// stored. Thread-safe; in memory (a restart means starting again).
class provider_signins {
public:
  struct options {
    std::chrono::seconds lifetime{std::chrono::minutes(10)};
    size_t per_user = 5;
    size_t max_total = 10000;
  };

  /// Milliseconds on a monotonic clock.
  using clock = std::function<int64_t()>;

  /// Defaults on steady_now() (the test clock when one is set).
  provider_signins();
  explicit provider_signins(options opts, clock now = {});

  /// Remembers a sign-in and returns its new `state` (43 characters of
  /// base64url); ec::too_busy when the server holds max_total already.
  caf::expected<std::string> begin(provider_signin signin);

  /// Takes the sign-in `state` names out (used once): nullopt when unknown,
  /// already used or expired.
  std::optional<provider_signin> finish(std::string_view state);

  size_t size() const;

private:
  struct entry {
    provider_signin signin;
    int64_t expires_ms = 0;
    int64_t started_ms = 0;
  };
  void sweep(int64_t now);

  options opts_;
  clock now_;
  mutable std::mutex mtx_;
  std::map<std::string, entry> by_hash_;
};

/// The PKCE S256 challenge of a verifier (base64url of its SHA-256).
std::string pkce_challenge(const secret& verifier);

} // namespace postern::http
