// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "postern/actors/directory_actor.hpp"
#include "postern/actors/mail_actor.hpp"
#include "postern/actors/outbox_actor.hpp"
#include "postern/storage/environment.hpp"

#include <caf/actor_system.hpp>

#include <chrono>
#include <memory>
#include <set>
#include <string>

namespace postern {

/// What the operator chose for held messages.
struct outbox_options {
  /// A message not decided on within this long expires (OUTBOX_TTL_HOURS).
  std::chrono::seconds ttl = std::chrono::hours(24);
  /// Decided entries stay visible (dashboard, get_send_status) this long.
  std::chrono::seconds retention = std::chrono::hours(24 * 7);
  /// Pending messages one person may have: an agent looping on send_mail
  /// must not fill the disk.
  size_t max_pending_per_user = 50;
  /// How often the sweep runs; zero turns the timer off (tests tick).
  std::chrono::seconds sweep_interval = std::chrono::minutes(1);
  /// How long a send of an approved message may take.
  std::chrono::seconds send_timeout = std::chrono::minutes(2);
};

/// State of the OUTBOX; lives exactly as long as the actor.
struct outbox_state {
  static inline const char* name = "outbox";

  std::shared_ptr<storage::environment> env;
  mail_actor mail;
  directory_actor directory;
  outbox_options opts;
  /// Entries whose send is under way (user + '/' + id): a second yes for
  /// the same message waits for nothing and is refused.
  std::set<std::string> sending;

  /// Expires `user`'s pending entries whose time ran out (audited).
  void expire_due(const user_id& user);

  /// Expires everyone's due entries and forgets old decisions.
  void sweep();

  /// Records one decision in the person's activity log.
  void audit(const outbox_entry& entry, const std::string& actor,
             const std::string& action, const std::string& outcome) const;
};

/// The OUTBOX behavior.
outbox_actor::behavior_type
outbox(outbox_actor::stateful_pointer<outbox_state> self,
       std::shared_ptr<storage::environment> env, mail_actor mail,
       directory_actor directory, outbox_options opts);

/// Spawns the OUTBOX.
outbox_actor spawn_outbox(caf::actor_system& sys,
                          std::shared_ptr<storage::environment> env,
                          mail_actor mail, directory_actor directory,
                          outbox_options opts);

} // namespace postern
