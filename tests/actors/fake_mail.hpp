// SPDX-License-Identifier: Apache-2.0
#pragma once

// Typed fakes of the peers of the mail engine (DIRECTORY, VAULT, MAIL
// ROUTER, IMAP CONNECTION) for the actors.account and actors.mail_router
// suites. Each implements its whole interface, so a test spawns it where
// the real one goes; messages a test does not use fail with not_used(), so
// a test that starts depending on one notices. The DIRECTORY is
// support/fake_actors.hpp's, shared with the HTTP tests.

#include "caf_test.hpp"
#include "postern/actors/directory_actor.hpp"
#include "postern/actors/imap_connection_actor.hpp"
#include "postern/actors/mail_router_actor.hpp"
#include "postern/actors/vault_actor.hpp"
#include "support/fake_actors.hpp"

#include <caf/scoped_actor.hpp>

#include <tuple>
#include <vector>

namespace postern::test {

/// The settings the fake DIRECTORY has for every account.
account_settings fake_settings(const user_id& user, const account_id& account);

/// The IMAP password the fake VAULT has for every account.
inline constexpr const char* fake_password = "imap-password";

/// A DIRECTORY that knows the settings of every account and nothing else
/// (run it with support/fake_actors.hpp's fake_directory).
struct settings_directory : directory_fake {
  caf::result<account_settings> get_account(const user_id& user,
                                            const account_id& account) override;
};

/// A VAULT that has the same IMAP password (fake_password) for every
/// account.
vault_actor::behavior_type fake_vault();

/// What a fake IMAP CONNECTION was started with and answers.
struct fake_connection_state {
  static inline const char* name = "fake-imap-connection";

  server_settings server;
  secret password;
  /// When set, every request fails with it (as a real connection whose
  /// login was refused does).
  caf::error failure;
};

/// The folders a fake IMAP CONNECTION lists.
std::vector<imap::folder> fake_folders();

/// An IMAP CONNECTION that lists the fake_folders() or fails with
/// `failure`; the other operations are unused.
imap_connection_actor::behavior_type fake_connection(
  imap_connection_actor::stateful_pointer<fake_connection_state> self,
  server_settings server, secret password, caf::error failure);

/// What a fake MAIL ROUTER answers to permit requests.
struct fake_router_state {
  static inline const char* name = "fake-mail-router";

  /// When set, atom::acquire fails with it.
  caf::error refuse;
  /// Permits granted and given back.
  size_t granted = 0;
  size_t released = 0;
};

/// A MAIL ROUTER that grants every permit (unless told to refuse) and
/// counts them; the mail operations are unused (the ACCOUNT suite
/// sends them to the ACCOUNT directly).
mail_router_actor::behavior_type
fake_router(mail_router_actor::stateful_pointer<fake_router_state> self);

/// Takes the next message in `self`'s mailbox, which must be a `T` (an
/// answer to a `send`, or a down message).
template <class T>
T take(caf::scoped_actor& self) {
  auto result = std::get<0>(extract<T>(self));
  self->dequeue();
  return result;
}

} // namespace postern::test
