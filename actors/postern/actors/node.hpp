// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "postern/oauth/mail_provider.hpp"
#include "postern/actors/directory.hpp"
#include "postern/actors/directory_actor.hpp"
#include "postern/actors/mail_router.hpp"
#include "postern/actors/node_actor.hpp"
#include "postern/actors/outbox_actor.hpp"
#include "postern/actors/token_authority_actor.hpp"
#include "postern/actors/vault_actor.hpp"
#include "postern/clock.hpp"
#include "postern/config.hpp"
#include "postern/storage/environment.hpp"

#include <caf/actor_system.hpp>
#include <caf/expected.hpp>

#include <chrono>
#include <memory>

namespace postern {

/// State of the NODE; lives exactly as long as the actor.
struct node_state {
  static inline const char* name = "node";

  /// When the NODE started, for uptime (steady_now(), so that a test can
  /// move time and check the exact uptime).
  std::chrono::steady_clock::time_point started = steady_now();

  /// Live children.
  int64_t components = 0;

  /// Builds the status reply.
  node_status status() const;
};

/// The NODE behavior: links to the components so that they all end when it
/// ends (the order is decided here, not by whoever holds handles).
/// @param self The actor handle.
/// @param children The long-lived components to supervise.
node_actor::behavior_type node(node_actor::stateful_pointer<node_state> self,
                               std::vector<caf::actor> children);

/// The long-lived components, as the HTTP layer and admin commands see them.
struct components {
  node_actor node;
  vault_actor vault;
  directory_actor directory;
  /// The MAIL ROUTER (the mail engine's entry point).
  mail_actor mail;
  /// The TOKEN AUTHORITY (grants and access tokens).
  token_authority_actor tokens;
  /// Messages waiting for their person's yes.
  outbox_actor outbox;
  /// The mail providers OAuth accounts sign in to (never null).
  std::shared_ptr<const oauth::mail_providers> providers;
  /// The running ACCOUNT of each mailbox, for mail calls that skip the MAIL
  /// ROUTER (never null).
  std::shared_ptr<const account_index> accounts;
};

/// What spawn_node needs beyond the configuration.
struct node_setup {
  std::shared_ptr<storage::environment> env;
  /// DATA_DIR/encryption.key when the key came from there, else empty.
  std::string key_file;
  /// HASHER threads; 0 picks one per core (at most 4).
  size_t hashers = 0;
  /// Run the HASHERs at the lowest CPU priority (the server: a login flood
  /// must not slow MCP requests). Admin commands want their one hash now.
  bool background_hashing = false;
};

/// The mail engine's limits and timeouts from the configuration.
mail_options mail_options_from(const config& cfg);

/// Spawns the VAULT (failing on a wrong ENCRYPTION_KEY), the DIRECTORY, the
/// MAIL ROUTER and the NODE that supervises them. End everything with
/// `caf::anon_send_exit(c.node, caf::exit_reason::user_shutdown)`.
caf::expected<components> spawn_node(caf::actor_system& sys, const config& cfg,
                                     const node_setup& setup);

/// Opens DATA_DIR's LMDB environment.
caf::expected<std::shared_ptr<storage::environment>>
open_storage(const config& cfg);

} // namespace postern
