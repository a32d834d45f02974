// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "postern/account.hpp"
#include "postern/actors/imap_connection_actor.hpp"
#include "postern/host_policy.hpp"
#include "postern/imap/budget.hpp"
#include "postern/imap/message_cache.hpp"
#include "postern/mime/attachment.hpp"
#include "postern/oauth/mail_provider.hpp"

#include <caf/fwd.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>

namespace postern::imap {

class session;

} // namespace postern::imap

namespace postern {

/// Starts the IMAP CONNECTION of an ACCOUNT: the spawning ACCOUNT, the
/// session it made (the ACCOUNT keeps its canceller), the IMAP server and
/// the password, which the connection owns from then on.
using connection_factory = std::function<imap_connection_actor(
  caf::local_actor* spawner, std::shared_ptr<imap::session> session,
  const server_settings& server, secret password)>;

/// Limits and timeouts of the mail engine.
struct mail_options {
  size_t pool_size = 3;
  size_t max_per_user = 6;
  size_t max_total = 1000;
  std::chrono::seconds timeout{30};
  std::chrono::seconds operation_timeout{120};
  /// A connection still busy this long after operation_timeout is dropped
  /// on the ACCOUNT's tick (its deadline guard should have ended the
  /// operation by then; this is the backstop for a connection that never
  /// answers, since the ACCOUNT asks it without a timer of its own).
  std::chrono::seconds stuck_grace{10};
  std::chrono::seconds idle{300};
  std::chrono::seconds login_failure_cache{60};
  /// Requests waiting for a connection, per account.
  size_t max_queue = 64;
  host_policy hosts = host_policy::deny_private();
  /// Decoded message texts shared by every ACCOUNT (may be null).
  std::shared_ptr<imap::message_cache> cache;
  /// The largest attachment get_attachment hands out, per kind.
  mime::attachment_limits attachment_limits;
  /// The most bytes of attachments one sent message or draft may carry.
  uint64_t max_send_attachment_bytes = 10 * 1024 * 1024;
  /// Messages an account may send per minute (any sending tool); 0: no
  /// limit.
  size_t sends_per_minute = 20;
  /// Connection tests one user may start per hour (one at a time); each
  /// holds a connection permit while it runs.
  size_t probes_per_hour = 30;
  /// What IMAP and SMTP servers may send (IMAP_MAX_*, SMTP_MAX_*).
  imap::budget_limits imap_budget;
  imap::budget_limits smtp_budget = imap::budget_limits::smtp_defaults();
  /// The providers OAuth accounts sign in to (null: none configured).
  std::shared_ptr<const oauth::mail_providers> providers;
  /// How an ACCOUNT reaches a provider's token endpoint (on a detached
  /// helper); empty uses oauth::https_token_transport().
  oauth::token_transport token_transport;
  /// Bound for one token request.
  std::chrono::seconds token_timeout{20};
  /// Empty in production: the ACCOUNT spawns a detached imap_connection.
  /// The test-DSL suites set it, because a detached actor (and a real IMAP
  /// server) cannot run under CAF's deterministic test coordinator; a fake
  /// IMAP CONNECTION can.
  connection_factory connect;
};

} // namespace postern
