// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "postern/fwd.hpp"
#include "postern/grant.hpp"
#include "postern/ids.hpp"

#include <caf/typed_event_based_actor.hpp>

#include <string>
#include <vector>

namespace postern {

/// The TOKEN AUTHORITY actor interface: grants (user × account × client ×
/// scopes × resource) and their tokens. Tokens exist only as SHA-256
/// digests in LMDB; the hot path (`validate`) is answered from memory.
using token_authority_actor = caf::typed_actor<
  // Resolves SHA-256(access token) for a resource (args: digest, resource;
  // the resource is compared with the grant's when the grant names one).
  // Fails with invalid_token and a sentence for the client: unknown,
  // expired, revoked, wrong resource, or the account is gone.
  caf::replies_to<atom::validate, std::string,
                  std::string>::with<access_grant>,
  // Creates a grant and its first access token. Fails with no_such_user,
  // no_such_account or invalid_argument (no scopes, bad lifetime).
  caf::replies_to<atom::issue, grant_request>::with<issued_token>,
  // Revokes a grant with all its tokens (idempotent for the caller's own
  // grants; fails with invalid_token for unknown ones).
  caf::replies_to<atom::revoke, user_id, grant_id>::with<atom::ok>,
  // The grants of a user (for the dashboard).
  caf::replies_to<atom::list, user_id>::with<std::vector<grant_info>>,
  // Internal timer: sweeps expired tokens and grants, trims the cache.
  caf::reacts_to<atom::tick>>;

} // namespace postern
