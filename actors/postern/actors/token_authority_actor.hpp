// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "postern/fwd.hpp"
#include "postern/grant.hpp"
#include "postern/ids.hpp"

#include <caf/typed_event_based_actor.hpp>

#include <string>
#include <vector>

namespace postern {

/// The TOKEN AUTHORITY actor interface: grants (user × accounts × client ×
/// scopes × resource) and their tokens. Tokens exist only as SHA-256
/// digests in LMDB; the hot path (`validate`) is answered from memory.
using token_authority_actor = caf::typed_actor<
  // Resolves SHA-256(access token) for a resource (args: digest, resource;
  // the resource is compared with the grant's when the grant names one).
  // Fails with invalid_token and a sentence for the client: unknown,
  // expired, revoked, wrong resource, or the account is gone.
  caf::replies_to<atom::validate, std::string, std::string>::with<access_grant>,
  // Creates a grant and its first access token. Fails with no_such_user,
  // no_such_account or invalid_argument (no scopes, bad lifetime).
  caf::replies_to<atom::issue, grant_request>::with<issued_token>,
  // Registers an OAuth client (RFC 7591; the caller checked the metadata):
  // replies it with its new id and times. Fails with too_busy when the
  // table is full even after a sweep.
  caf::replies_to<atom::put, oauth_client>::with<oauth_client>,
  // Looks a registered client up; fails with invalid_client.
  caf::replies_to<atom::get, std::string>::with<oauth_client>,
  // Stores an authorization code for an approved consent (OAuth); replies
  // the code. Fails with no_such_account or invalid_argument.
  caf::replies_to<atom::issue, code_request>::with<secret>,
  // Redeems an authorization code at the token endpoint. Fails with
  // invalid_grant, invalid_request (malformed verifier) or invalid_target.
  // A second valid redemption revokes what the first one issued.
  caf::replies_to<atom::redeem, code_exchange>::with<token_pair>,
  // Rotates a refresh token. Fails with invalid_grant (reuse beyond the
  // grace window also revokes the grant), invalid_scope or invalid_target.
  caf::replies_to<atom::refresh, refresh_request>::with<token_pair>,
  // RFC 7009 revocation by token; succeeds for unknown tokens.
  caf::replies_to<atom::revoke, token_revocation>::with<atom::ok>,
  // Revokes a grant with all its tokens (idempotent for the caller's own
  // grants; fails with invalid_token for unknown ones).
  caf::replies_to<atom::revoke, user_id, grant_id>::with<atom::ok>,
  // Takes one account out of a grant that reaches several; its tokens keep
  // working for the others. Fails with invalid_token (no such grant),
  // no_such_account (the grant does not reach it) or invalid_argument (it
  // is the grant's only account: revoke the grant instead).
  caf::replies_to<atom::revoke, user_id, grant_id, account_id>::with<atom::ok>,
  // Replaces the send rules of a grant (the dashboard); its tokens obey the
  // new rules from their next call. Fails with invalid_token (no such
  // grant) or invalid_argument (too many recipients).
  caf::replies_to<atom::put, user_id, grant_id, send_rules>::with<atom::ok>,
  // The grants of a user (for the dashboard), with their last use.
  caf::replies_to<atom::list, user_id>::with<std::vector<grant_info>>,
  // The human names of OAuth clients by id, in order (empty for unknown
  // ids), for the activity page.
  caf::replies_to<atom::list,
                  std::vector<std::string>>::with<std::vector<std::string>>,
  // Internal: writes the last uses of grants noted by `validate` (sent to
  // itself, so a burst of requests costs one write transaction).
  caf::reacts_to<atom::flush>,
  // Internal timer: sweeps expired tokens, codes, clients and grants, and
  // trims the cache.
  caf::reacts_to<atom::tick>>;

} // namespace postern
