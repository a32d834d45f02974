// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "postern/fwd.hpp"
#include "postern/secret.hpp"

#include <caf/typed_event_based_actor.hpp>

#include <string>

namespace postern {

/// The HASHER actor interface: Argon2id on its own thread, so that a slow
/// hash (tens of milliseconds, by design) never stalls the DIRECTORY.
using hasher_actor = caf::typed_actor<
  // Hashes a password; replies with the encoded Argon2id string.
  caf::replies_to<atom::hash, secret>::with<std::string>,
  // Checks a password against an encoded hash (constant time).
  caf::replies_to<atom::verify, secret, std::string>::with<bool>>;

} // namespace postern
