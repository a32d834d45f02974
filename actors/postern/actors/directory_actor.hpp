// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "postern/account.hpp"
#include "postern/directory_types.hpp"
#include "postern/fwd.hpp"
#include "postern/ids.hpp"

#include <caf/typed_event_based_actor.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace postern {

/// The DIRECTORY actor interface: users, web sessions, email accounts'
/// settings and the audit log. Every change is one LMDB transaction, and
/// every lookup reads LMDB, so changes made by `postern admin` in another
/// process are seen on the next request.
using directory_actor = caf::typed_actor<
  // Creates a user (operator path, no SIGNUP policy). Fails with
  // invalid_argument (rules) or already_exists.
  caf::replies_to<atom::add_user, std::string, secret>::with<user_info>,
  // Web sign-up under the SIGNUP policy (args: username, password, invite
  // code, client address); logs the new user in. Fails with forbidden when
  // sign-up is closed or the invite is invalid.
  caf::replies_to<atom::signup, std::string, secret, std::string,
                  std::string>::with<session_grant>,
  // Checks username + password (args: ..., client address) and opens a new
  // web session (a fresh id each time: no fixation). Unknown users take as
  // long as wrong passwords. Fails with invalid_credentials.
  caf::replies_to<atom::login, std::string, secret,
                  std::string>::with<session_grant>,
  // Resolves a session cookie value; fails with no_such_session.
  caf::replies_to<atom::session, std::string>::with<user_info>,
  // Ends a session (idempotent).
  caf::replies_to<atom::logout, std::string>::with<atom::ok>,
  // Changes a password after checking the old one; ends every session of
  // the user and opens a new one.
  caf::replies_to<atom::change_password, user_id, secret,
                  secret>::with<session_grant>,
  // Looks up a user by id or by name; fails with no_such_user.
  caf::replies_to<atom::get, user_id>::with<user_info>,
  caf::replies_to<atom::find_user, std::string>::with<user_info>,
  // Deletes a user and everything that references them.
  caf::replies_to<atom::delete_user, user_id>::with<atom::ok>,
  // Adds an account for `settings.owner` (a new id is assigned) with its
  // passwords sealed by the VAULT, in one transaction.
  caf::replies_to<atom::add_account, account_settings,
                  account_credentials>::with<account_settings>,
  // Updates an account; empty passwords keep the stored ones, but only
  // for the server and login name they were typed for. Fails with
  // invalid_argument (rules) or forbidden (host policy, or a server moved
  // without its password), both naming the form field; no_such_account.
  caf::replies_to<atom::update_account, account_settings,
                  account_credentials>::with<account_settings>,
  // The passwords to test an edit of a stored account with (settings, and
  // the passwords typed on the form): each typed one, else the stored one,
  // under the same checks as update_account. Only for the MAIL ROUTER's
  // probe; never part of a response.
  caf::replies_to<atom::edit_credentials, account_settings,
                  account_credentials>::with<account_credentials>,
  // An OAuth account signed in at its provider again (a Reconnect) or
  // its provider rotated the refresh token: stores the new refresh token
  // (sealed by the VAULT) and clears needs_signin, in one transaction.
  caf::replies_to<atom::signin, user_id, account_id,
                  account_credentials>::with<account_settings>,
  // The provider refused an OAuth account's refresh token: marks the
  // account as needing its person to sign in again (the dashboard's
  // banner and Reconnect).
  caf::replies_to<atom::signin_needed, user_id,
                  account_id>::with<account_settings>,
  // One account of a user; fails with no_such_account.
  caf::replies_to<atom::get, user_id, account_id>::with<account_settings>,
  // All accounts of a user, oldest first.
  caf::replies_to<atom::list, user_id>::with<std::vector<account_settings>>,
  // Deletes an account, its secrets and everything that references it.
  caf::replies_to<atom::delete_account, user_id, account_id>::with<atom::ok>,
  // Appends to the audit log (fire and forget).
  caf::reacts_to<atom::audit, audit_event>,
  // Appends several events in one transaction (fire and forget): busy
  // sources (tool calls) batch, so one fsync covers many events.
  caf::reacts_to<atom::audit, std::vector<audit_event>>,
  // The newest N audit events of a user, newest first.
  caf::replies_to<atom::audit_log, user_id,
                  uint64_t>::with<std::vector<audit_event>>,
  // Creates a one-time sign-up invite valid for N seconds; replies with
  // the code (shown once, stored hashed).
  caf::replies_to<atom::invite, int64_t>::with<std::string>,
  // Internal timer: sweeps expired sessions and invites.
  caf::reacts_to<atom::tick>>;

} // namespace postern
