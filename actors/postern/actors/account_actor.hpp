// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "postern/actors/mail_actor.hpp"

#include <caf/typed_event_based_actor.hpp>

namespace postern {

/// The ACCOUNT actor interface: the mail operations of one (user, account),
/// with the same messages as the MAIL ROUTER's so it can delegate them
/// unchanged, plus its timer.
using account_actor = mailbox_operations_actor::extend<
  // An OAuth account's access token, for the MAIL ROUTER's connection
  // test: the one the ACCOUNT holds or refreshes (a test refreshing on
  // its own would race the ACCOUNT and replay a rotated refresh token).
  caf::replies_to<atom::signin, mailbox_ref>::with<secret>,
  // Closes idle connections; ends the ACCOUNT when it has been idle.
  caf::reacts_to<atom::tick>>;

} // namespace postern
