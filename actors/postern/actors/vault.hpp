// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "postern/actors/vault_actor.hpp"
#include "postern/storage/credential_store.hpp"
#include "postern/storage/environment.hpp"

#include <caf/actor_system.hpp>
#include <caf/expected.hpp>

#include <memory>
#include <string>

namespace postern {

/// State of the VAULT; lives exactly as long as the actor.
struct vault_state {
  static inline const char* name = "vault";

  std::shared_ptr<storage::environment> env;
  storage::vault_keys keys;
  /// DATA_DIR/encryption.key when the key came from there: after a
  /// rotation by `postern admin rotate-key` in another process, the VAULT
  /// picks the new key up from this file instead of failing.
  std::string key_file;

  /// Seals with the key the vault check record names: after a rotation by
  /// another process it first loads the new key from key_file, and refuses
  /// with a sentence when it cannot (ENCRYPTION_KEY from the environment).
  caf::expected<sealed_credentials> seal(const user_id& user,
                                         const account_id& account,
                                         const account_credentials& creds);

  caf::expected<account_credentials> open(const user_id& user,
                                          const account_id& account);

  caf::expected<uint64_t> rotate(const secret& new_master);

private:
  /// Re-reads key_file; true if it now holds the key `key_id` names.
  bool reload_key_file(const std::string& key_id);
};

/// The VAULT behavior.
/// @param self The actor handle.
/// @param env The storage environment.
/// @param keys The verified keys (see spawn_vault).
/// @param key_file Path of the key file the key came from, or empty.
vault_actor::behavior_type
vault(vault_actor::stateful_pointer<vault_state> self,
      std::shared_ptr<storage::environment> env, storage::vault_keys keys,
      std::string key_file);

/// Derives the keys, checks them against the database (a wrong key is an
/// error here, at startup), finishes a rotation a crash interrupted, and
/// spawns the VAULT.
/// @param key_file DATA_DIR/encryption.key if the key came from it.
caf::expected<vault_actor>
spawn_vault(caf::actor_system& sys, std::shared_ptr<storage::environment> env,
            const secret& master_key, const std::string& key_file);

} // namespace postern
