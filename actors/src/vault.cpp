// SPDX-License-Identifier: Apache-2.0
#include "postern/actors/vault.hpp"

#include "postern/error.hpp"
#include "postern/log.hpp"
#include "postern/storage/key_files.hpp"

#include <caf/result.hpp>

#include <cstdio>

namespace postern {

caf::expected<sealed_credentials>
vault_state::seal(const user_id& user, const account_id& account,
                  const account_credentials& creds) {
  std::optional<std::string> current;
  auto err = env->read([&](const storage::txn& t) -> caf::error {
    current = storage::current_key_id(t);
    return caf::none;
  });
  if (err)
    return err;
  if (current && *current != keys.key_id && !reload_key_file(*current))
    return caf::make_error(ec::invalid_configuration,
                           "the encryption key was rotated (postern admin "
                           "rotate-key) and this server cannot load the new "
                           "key, so it cannot store passwords now; restart "
                           "it with the new ENCRYPTION_KEY");
  auto record = storage::seal_credentials(keys, user, account, creds);
  if (!record)
    return record.error();
  return sealed_credentials{std::move(*record)};
}

bool vault_state::reload_key_file(const std::string& key_id) {
  if (key_file.empty())
    return false;
  auto key = storage::read_key_file(key_file);
  if (!key)
    return false;
  auto derived = storage::vault_keys::derive(*key);
  if (!derived || derived->key_id != key_id)
    return false;
  POSTERN_INFO("vault: switched to the rotated key {} from {}", key_id,
               key_file);
  keys = std::move(*derived);
  return true;
}

caf::expected<account_credentials>
vault_state::open(const user_id& user, const account_id& account) {
  std::string record;
  auto err = env->read([&](const storage::txn& t) -> caf::error {
    if (auto value = t.get(storage::table::credentials, account.value))
      record = std::string{*value};
    return caf::none;
  });
  if (err)
    return err;
  if (record.empty())
    return caf::make_error(ec::no_such_account,
                           "no stored credentials for account "
                             + account.value);
  auto result = storage::open_credentials(keys, user, account, record);
  if (!result && result.error() == ec::invalid_configuration) {
    // Sealed under another key: maybe rotated by another process.
    auto key_id = storage::sealed_key_id(record);
    if (key_id && reload_key_file(*key_id))
      result = storage::open_credentials(keys, user, account, record);
  }
  // Overwrite our copy of the ciphertext record before it is freed.
  std::fill(record.begin(), record.end(), '\0');
  return result;
}

caf::expected<uint64_t> vault_state::rotate(const secret& new_master) {
  auto next = storage::vault_keys::derive(new_master);
  if (!next)
    return next.error();
  if (next->key_id == keys.key_id)
    return caf::make_error(ec::invalid_request,
                           "the new key is the same as the current key");
  auto count = storage::rotate_credentials(*env, keys, *next);
  if (!count)
    return count.error();
  keys = std::move(*next);
  return static_cast<uint64_t>(*count);
}

vault_actor::behavior_type
vault(vault_actor::stateful_pointer<vault_state> self,
      std::shared_ptr<storage::environment> env, storage::vault_keys keys,
      std::string key_file) {
  self->state.env = std::move(env);
  self->state.keys = std::move(keys);
  self->state.key_file = std::move(key_file);
  return {
    [=](atom::seal, const user_id& user, const account_id& account,
        const account_credentials& creds) -> caf::result<sealed_credentials> {
      auto result = self->state.seal(user, account, creds);
      if (!result)
        return result.error();
      return std::move(*result);
    },
    [=](atom::get, const user_id& user,
        const account_id& account) -> caf::result<account_credentials> {
      auto result = self->state.open(user, account);
      if (!result)
        return result.error();
      return std::move(*result);
    },
    [=](atom::rotate, const secret& new_master) -> caf::result<uint64_t> {
      auto result = self->state.rotate(new_master);
      if (!result)
        return result.error();
      return *result;
    },
  };
}

caf::expected<vault_actor>
spawn_vault(caf::actor_system& sys, std::shared_ptr<storage::environment> env,
            const secret& master_key, const std::string& key_file) {
  auto keys = storage::vault_keys::derive(master_key);
  if (!keys)
    return keys.error();
  auto err = storage::verify_key(*env, *keys);
  if (err && err == ec::invalid_configuration && !key_file.empty()) {
    // A rotation that crashed after its commit but before the key file was
    // replaced left the new key in KEY_FILE.next: finish it.
    auto next_path = key_file + ".next";
    if (auto next = storage::read_key_file(next_path)) {
      auto next_keys = storage::vault_keys::derive(*next);
      if (next_keys && !storage::verify_key(*env, *next_keys)) {
        if (std::rename(next_path.c_str(), key_file.c_str()) == 0) {
          POSTERN_WARN("vault: finished an interrupted key rotation; {} now "
                       "holds the new key",
                       key_file);
          keys = std::move(next_keys);
          err = caf::none;
        }
      }
    }
  }
  if (err)
    return err;
  return sys.spawn(vault, std::move(env), std::move(*keys), key_file);
}

} // namespace postern
