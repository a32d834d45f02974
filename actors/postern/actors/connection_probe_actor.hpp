// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "postern/account.hpp"
#include "postern/actors/mail_actor.hpp"
#include "postern/fwd.hpp"

#include <caf/typed_event_based_actor.hpp>

namespace postern {

/// The CONNECTION PROBE actor interface: a detached, short-lived actor that
/// tests account settings once (the dashboard's "Test connection"), then
/// quits. Spawned by the MAIL ROUTER, which holds a connection permit for it.
using probe_actor = caf::typed_actor<
  // Logs into IMAP (and SMTP when the account has it) and logs out. Never
  // fails: each server's outcome is a sentence in the report.
  caf::replies_to<atom::probe, account_settings,
                  account_credentials>::with<probe_report>>;

} // namespace postern
