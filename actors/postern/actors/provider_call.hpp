// SPDX-License-Identifier: Apache-2.0
#pragma once

// One call to a mail provider's token endpoint, for the ACCOUNT (refresh)
// and the dashboard (redeeming a sign-in's code).

#include "postern/oauth/mail_provider.hpp"

#include <caf/actor.hpp>
#include <caf/local_actor.hpp>

#include <chrono>

namespace postern {

/// Spawns a detached helper for one token-endpoint call: the transport
/// blocks on the network, which must never hold a CAF worker. The helper
/// answers one `atom::refresh` with the provider's answer (an oauth_access
/// or the error parse_token_response names) and quits. Ask it with a
/// timeout a little over `timeout`.
caf::actor spawn_token_call(caf::local_actor* self, oauth::mail_provider p,
                            oauth::token_transport transport,
                            oauth::token_exchange req,
                            std::chrono::seconds timeout);

} // namespace postern
