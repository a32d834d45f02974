// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "postern/actors/mail_actor.hpp"
#include "postern/ids.hpp"

#include <caf/typed_event_based_actor.hpp>

namespace postern {

/// The MAIL ROUTER's full interface: what everyone else sees (mail_actor)
/// plus the connection permits its ACCOUNTs ask for.
using mail_router_actor = mail_actor::extend<
  // Asks for one more IMAP connection for a user; fails with ec::too_busy
  // at the global or per-user limit.
  caf::replies_to<atom::acquire, user_id>::with<atom::ok>,
  // Gives a connection permit back.
  caf::reacts_to<atom::release, user_id>>;

} // namespace postern
