// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "postern/fwd.hpp"

#include <caf/typed_event_based_actor.hpp>

#include <string>
#include <vector>

namespace postern {

/// The SMTP SENDER actor interface: a detached, short-lived actor that
/// connects, authenticates, sends one message and quits. Spawned by an
/// ACCOUNT for each message.
using smtp_sender_actor = caf::typed_actor<
  // Sends the message (args: envelope sender, recipients, RFC 5322 data).
  // Fails with the SMTP client's errors: connection_failed, tls_failure,
  // authentication_failed, recipient_rejected, server_refused, timed_out,
  // over_budget.
  caf::replies_to<atom::send, std::string, std::vector<std::string>,
                  std::string>::with<atom::ok>>;

} // namespace postern
