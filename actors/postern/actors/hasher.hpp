// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "postern/actors/hasher_actor.hpp"
#include "postern/storage/crypto.hpp"

#include <caf/actor_system.hpp>

#include <vector>

namespace postern {

struct hasher_state {
  static inline const char* name = "hasher";
  storage::password_hash_params params;
  /// Whether this thread yields the CPU to everything else.
  bool background = false;
};

/// The HASHER behavior.
hasher_actor::behavior_type
hasher(hasher_actor::stateful_pointer<hasher_state> self,
       storage::password_hash_params params, bool background);

/// Spawns `n` detached HASHERs (each on its own thread); the DIRECTORY uses
/// them round-robin. With `background`, their threads run at the lowest CPU
/// priority.
std::vector<hasher_actor>
spawn_hashers(caf::actor_system& sys, size_t n,
              storage::password_hash_params params = {},
              bool background = false);

} // namespace postern
