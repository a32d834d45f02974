// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "postern/actors/account.hpp"
#include "postern/actors/account_index.hpp"
#include "postern/actors/connection_probe_actor.hpp"

#include <caf/actor_addr.hpp>
#include <caf/actor_system.hpp>
#include <caf/result.hpp>

#include <chrono>
#include <deque>
#include <map>
#include <memory>
#include <string>

namespace postern {

/// State of the MAIL ROUTER; lives exactly as long as the actor.
struct mail_router_state {
  static inline const char* name = "mail-router";

  /// Set by the behavior; null in tests that use the state alone.
  mail_router_actor::pointer self = nullptr;
  directory_actor directory;
  vault_actor vault;
  mail_options opts;

  /// The ACCOUNT of each (user id + '/' + account id).
  std::map<std::string, account_actor> accounts;
  /// The same, for callers that ask an ACCOUNT directly; kept in step with
  /// `accounts` here (may be null: then every call comes through here).
  std::shared_ptr<account_index> index;
  /// Which key an ACCOUNT serves, to forget it when it ends.
  std::map<caf::actor_addr, std::string> keys;
  /// Connection permits: by user, in total, and held by each ACCOUNT (so an
  /// ACCOUNT that dies gives its permits back).
  std::map<std::string, size_t> per_user;
  size_t total = 0;
  std::map<caf::actor_addr, std::pair<std::string, size_t>> held;
  /// The running connection test of each user (at most one), and when each
  /// user started tests within the last hour.
  std::map<std::string, caf::actor_addr> probing;
  std::map<std::string, std::deque<std::chrono::steady_clock::time_point>>
    probe_starts;

  /// The ACCOUNT for `ref`, started (linked and monitored) on first use.
  account_actor account_for(const mailbox_ref& ref);

  /// Forgets an ACCOUNT or connection test that ended and gives its
  /// permits back.
  void on_down(const caf::down_msg& msg);

  /// Gives back every permit an ACCOUNT or connection test holds.
  void release_all(const caf::actor_addr& who);

  /// Starts a connection test on its own thread, holding a permit of
  /// `settings.owner` while it runs; fails with `ec::too_busy` (see
  /// admit_probe).
  /// Spawns a CONNECTION PROBE counted as a connection of `user`.
  probe_actor spawn_probe(const std::string& user);
  caf::result<probe_report> start_probe(const account_settings& settings,
                                        const account_credentials& creds);

  /// Ends the ACCOUNT of `ref`, if any; the next request starts a new one.
  void forget(const mailbox_ref& ref);

  /// Connections, ACCOUNTs and the cache's counters.
  mail_status status() const;

  /// Gives the current sender (an ACCOUNT) one connection permit of
  /// `user`, or fails with `ec::too_busy` at a limit.
  caf::result<atom::ok> acquire(const user_id& user);

  /// Takes back one permit the current sender holds for `user`.
  void release(const user_id& user);

  /// Why `user` may not start a connection test now (a sentence), or none:
  /// a test already running, the hourly allowance used, or no connection
  /// permit free. Counts the start when allowed.
  caf::error admit_probe(const std::string& user,
                         std::chrono::steady_clock::time_point now);
};

/// The MAIL ROUTER behavior.
mail_router_actor::behavior_type
mail_router(mail_router_actor::stateful_pointer<mail_router_state> self,
            directory_actor directory, vault_actor vault, mail_options opts,
            std::shared_ptr<account_index> index);

/// Spawns the MAIL ROUTER; it spawns an ACCOUNT per mailbox on first use
/// and names each running one in `index` (optional).
mail_router_actor spawn_mail_router(caf::actor_system& sys,
                                    directory_actor directory,
                                    vault_actor vault, mail_options opts,
                                    std::shared_ptr<account_index> index
                                    = nullptr);

} // namespace postern
