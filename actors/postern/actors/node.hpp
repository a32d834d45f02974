// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "postern/actors/node_actor.hpp"

#include <caf/actor_system.hpp>
#include <caf/expected.hpp>

#include <chrono>

namespace postern {

/// State of the NODE; lives exactly as long as the actor.
struct node_state {
  static inline const char* name = "node";

  /// When the NODE started, for uptime.
  std::chrono::steady_clock::time_point started
    = std::chrono::steady_clock::now();

  /// Live children (the VAULT, DIRECTORY, TOKEN AUTHORITY and MAIL ROUTER
  /// join as their issues land).
  int64_t components = 0;

  /// Builds the status reply.
  node_status status() const;
};

/// The NODE behavior.
/// @param self The actor handle.
node_actor::behavior_type
node(node_actor::stateful_pointer<node_state> self);

/// Spawns the NODE and its children. The caller ends it with
/// `caf::anon_send_exit(node, caf::exit_reason::user_shutdown)`.
caf::expected<node_actor> spawn_node(caf::actor_system& sys);

} // namespace postern
