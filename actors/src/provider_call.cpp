// SPDX-License-Identifier: Apache-2.0
#include "postern/actors/provider_call.hpp"

#include "postern/fwd.hpp"

#include <caf/event_based_actor.hpp>

namespace postern {

caf::actor spawn_token_call(caf::local_actor* self, oauth::mail_provider p,
                            oauth::token_transport transport,
                            oauth::token_exchange req,
                            std::chrono::seconds timeout) {
  return self->spawn<caf::detached>(
    [p = std::move(p), transport = std::move(transport), req = std::move(req),
     timeout](caf::event_based_actor* me) -> caf::behavior {
      return {
        [=](atom::refresh) -> caf::result<oauth_access> {
          me->quit();
          return oauth::exchange(p, transport, req, timeout);
        },
      };
    });
}

} // namespace postern
