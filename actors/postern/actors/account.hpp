// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "postern/actors/account_actor.hpp"
#include "postern/actors/directory_actor.hpp"
#include "postern/actors/imap_connection_actor.hpp"
#include "postern/actors/mail_options.hpp"
#include "postern/actors/mail_router_actor.hpp"
#include "postern/actors/vault_actor.hpp"
#include "postern/imap/session.hpp"

#include <caf/typed_event_based_actor.hpp>

#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <vector>

namespace postern {

/// One pooled IMAP connection of an ACCOUNT.
struct connection_slot {
  uint64_t id = 0;
  imap_connection_actor hdl;
  std::shared_ptr<imap::canceller> cancel;
  bool busy = false;
  /// A request succeeded on it (so it did log in).
  bool proven = false;
  /// When it was last handed to a request or given back.
  std::chrono::steady_clock::time_point last_used;
};

/// A request waiting for a connection.
struct pending_request {
  /// Issues the request on the given connection; must end with
  /// account_state::finish(slot id, error).
  std::function<void(uint64_t, const imap_connection_actor&)> run;
  /// Answers the request with an error without running it.
  std::function<void(const caf::error&)> fail;
  /// Who asked, when known: if it ends while the request waits in the
  /// queue (a client cancelled the call), the request is dropped unrun.
  caf::actor_addr requester;
  /// The ACCOUNT monitors `requester` while the request waits.
  bool watched = false;
};

/// State of an ACCOUNT; lives exactly as long as the actor.
struct account_state {
  static inline const char* name = "account";

  using clock = std::chrono::steady_clock;

  account_actor::pointer self = nullptr;
  mailbox_ref ref;
  directory_actor directory;
  vault_actor vault;
  mail_router_actor router;
  mail_options opts;

  std::vector<connection_slot> pool;
  std::deque<pending_request> queue;
  uint64_t next_slot = 1;
  /// Connections being set up (permit, settings, credentials).
  size_t opening = 0;
  /// A rejected login, reported at once until `login_failure_until`.
  caf::error login_failure;
  clock::time_point login_failure_until;
  /// The last failure to reach the server, and when to try again.
  caf::error connect_failure;
  int consecutive_failures = 0;
  clock::time_point retry_at;
  clock::time_point last_activity = clock::now();
  /// OAuth accounts: the provider's access token (memory only), when to
  /// get the next one, the callers waiting for the one refresh in flight
  /// (one per account, however many connections need it at once). On
  /// steady_now(), so tests move it with TEST_CLOCK_FILE.
  secret access_token;
  clock::time_point access_renew_at;
  std::vector<std::function<void(caf::expected<secret>)>> token_waiters;
  /// Whether the account signs in by OAuth (known once its settings came).
  bool oauth = false;
  /// When the messages of the last minute were handed to SMTP (send rate
  /// limit).
  std::deque<clock::time_point> recent_sends;
  /// Cancellers and handles of the connections, for cleanup when the
  /// ACCOUNT ends (shared with a functor that outlives the state).
  std::shared_ptr<std::vector<
    std::pair<imap_connection_actor, std::shared_ptr<imap::canceller>>>>
    live = std::make_shared<std::vector<
      std::pair<imap_connection_actor, std::shared_ptr<imap::canceller>>>>();

  /// A connection ended: forgets its slot; a caller that ended: drops its
  /// waiting requests.
  void on_down(const caf::down_msg& msg);
  /// Queues a request, failing it at once while a login failure is cached
  /// or the server is known to be unreachable.
  void submit(pending_request req);
  /// Starts queued requests on idle connections; opens connections.
  void pump();
  /// Called when a request on a slot is done.
  void finish(uint64_t slot_id, const caf::error& err);
  /// Removes a slot (its connection ends) and gives its permit back.
  void drop(uint64_t slot_id);
  /// Fails every queued request.
  void fail_queue(const caf::error& err);
  /// True while a queued request of `requester` is watched (the ACCOUNT
  /// monitors each caller once).
  bool watching(const caf::actor_addr& requester) const;
  /// Drops the queued requests of an actor that ended (its caller went
  /// away); returns how many.
  size_t abandon(const caf::actor_addr& requester);
  /// Opens one more connection (asynchronously), one step at a time: a
  /// permit from the MAIL ROUTER, then the settings from the DIRECTORY
  /// (on_permit), the password from the VAULT (on_settings), then the
  /// connection itself (start_connection). Any failing step ends in
  /// open_failed.
  void open_connection();
  /// The MAIL ROUTER granted a permit: asks the DIRECTORY for the settings.
  void on_permit();
  /// Asks the VAULT for the password to log in with these settings.
  void on_settings(account_settings settings);
  /// Starts an IMAP CONNECTION (`opts.connect`, else a detached
  /// imap_connection), pools it idle and runs the queue.
  void start_connection(const account_settings& settings,
                        account_credentials& creds);
  /// A step of open_connection failed: gives the permit back if held, and
  /// fails the queue when no connection is left to run it.
  void open_failed(const caf::error& err, bool permit_held);
  /// Calls `then` with an access token for an OAuth account: the one in
  /// memory while it is fresh, else one refresh at the provider (on a
  /// detached helper) shared by every caller that asks meanwhile. A
  /// rotated refresh token is stored through the DIRECTORY before the
  /// callers go on; a refused one marks the account (needs_signin).
  void with_access_token(const account_settings& settings,
                         std::function<void(caf::expected<secret>)> then);
  /// Forgets the access token (the server refused it before its time).
  void forget_access_token();
  /// Whether the slot has not yet served a request (it logged in just
  /// now, with the token in memory).
  bool fresh_slot(uint64_t slot_id) const;
  /// Closes idle connections; true when the ACCOUNT itself should end.
  bool reap();
  /// Counts one message against the send rate limit, or fails with
  /// `ec::send_rate_limited` saying when to try again.
  caf::error admit_send();
};

/// The ACCOUNT behavior.
account_actor::behavior_type
account(account_actor::stateful_pointer<account_state> self, mailbox_ref ref,
        directory_actor directory, vault_actor vault, mail_router_actor router,
        mail_options opts);

/// True for errors after which a connection cannot be used again.
bool is_connection_error(const caf::error& err);

} // namespace postern
