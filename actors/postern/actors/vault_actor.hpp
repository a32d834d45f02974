// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "postern/account.hpp"
#include "postern/fwd.hpp"
#include "postern/ids.hpp"

#include <caf/meta/type_name.hpp>
#include <caf/typed_event_based_actor.hpp> // not just typed_actor.hpp

#include <cstdint>
#include <string>

namespace postern {

/// The VAULT actor interface. The VAULT holds the keys derived from
/// ENCRYPTION_KEY; plaintext credentials leave it only in replies to the
/// mail engine.
using vault_actor = caf::typed_actor<
  // Seals an account's passwords for storage (AES-256-GCM, AAD = user +
  // account + field, key id on the record).
  caf::replies_to<atom::seal, user_id, account_id,
                  account_credentials>::with<sealed_credentials>,
  // Decrypts the stored passwords of an account; fails with
  // ec::no_such_account when none are stored, ec::invalid_configuration
  // when they were sealed under another key.
  caf::replies_to<atom::get, user_id, account_id>::with<account_credentials>,
  // Re-seals every credential under a new 64-hex master key in one
  // transaction and switches to it; replies with the number re-sealed.
  caf::replies_to<atom::rotate, secret>::with<uint64_t>>;

} // namespace postern
