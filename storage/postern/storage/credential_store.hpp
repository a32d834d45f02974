// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "postern/account.hpp"
#include "postern/storage/environment.hpp"

#include <caf/expected.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace postern::storage {

/// The key material derived from ENCRYPTION_KEY with HKDF: one subkey per
/// purpose, and a key id that every sealed record names, so a record sealed
/// under another key is recognized instead of decrypting to garbage.
struct vault_keys {
  /// 16 hex characters identifying the master key (not secret).
  std::string key_id;
  /// AES-256-GCM key for account credentials.
  secret credential_key;

  /// Derives the keys from the 64-hex-character master key.
  static caf::expected<vault_keys> derive(const secret& master_hex);
};

/// Seals an account's passwords into one `credentials` record. The AAD binds
/// each ciphertext to user id + account id + field, so a record copied to
/// another account does not open.
caf::expected<std::string>
seal_credentials(const vault_keys& keys, const user_id& user,
                 const account_id& account, const account_credentials& creds);

/// Opens a `credentials` record. Fails with a sentence when it was sealed
/// under another key, belongs to another user, or was tampered with.
caf::expected<account_credentials>
open_credentials(const vault_keys& keys, const user_id& user,
                 const account_id& account, std::string_view record);

/// The key id a `credentials` record was sealed with, or nullopt if the
/// record is corrupt.
std::optional<std::string> sealed_key_id(std::string_view record);

/// The key id the vault check record names: the key every credential must
/// be sealed with now (nullopt before the first start wrote it).
std::optional<std::string> current_key_id(const txn& t);

/// Whether `record` is sealed with the key the check record names. Checked
/// inside the write transaction that stores `record`, so a rotation by
/// another process can never leave a record sealed under the old key.
bool sealed_with_current_key(const txn& t, std::string_view record);

/// Checks the vault check record against `keys`, writing it on first use.
/// A wrong ENCRYPTION_KEY is a clear error here, at startup.
caf::error verify_key(environment& env, const vault_keys& keys);

/// Re-seals every credential under `next` and replaces the check record, in
/// one write transaction. Returns how many accounts were re-sealed.
caf::expected<size_t> rotate_credentials(environment& env,
                                         const vault_keys& current,
                                         const vault_keys& next);

} // namespace postern::storage
