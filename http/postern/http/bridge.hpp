// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "postern/http/message.hpp"
#include "postern/http/responses.hpp"

#include <caf/actor_system.hpp>
#include <caf/detail/type_traits.hpp>
#include <caf/event_based_actor.hpp>

#include <chrono>
#include <utility>

namespace postern::http {

/// How long a request handler waits for an actor before answering 503.
inline constexpr auto default_actor_timeout = std::chrono::seconds(30);

namespace detail {

template <class F, class... Ts>
auto reply_continuation(F on_reply, responder respond,
                        caf::detail::type_list<Ts...>) {
  return [on_reply = std::move(on_reply), respond = std::move(respond)](
           Ts... xs) mutable { respond(on_reply(std::forward<Ts>(xs)...)); };
}

} // namespace detail

/// Asks an actor from an HTTP handler without blocking the Asio thread.
///
/// Spawns a short-lived actor that sends `args...` to `hdl` and, in both
/// continuations, hands the response to `respond`, which posts it back to the
/// session's strand. `on_reply` turns the actor's reply into a response; its
/// parameter types must match the reply (e.g. `node_status&`). Errors and
/// timeouts become JSON errors through `error_response`. The actor ends after
/// its continuation ran.
template <class Handle, class OnReply, class... Args>
void ask(caf::actor_system& sys, const Handle& hdl, responder respond,
         OnReply on_reply, Args... args) {
  using trait = caf::detail::get_callable_trait<OnReply>;
  sys.spawn([=](caf::event_based_actor* self) mutable {
    self->request(hdl, default_actor_timeout, args...)
      .then(detail::reply_continuation(std::move(on_reply), respond,
                                       typename trait::arg_types{}),
            [respond](const caf::error& err) { respond(error_response(err)); });
  });
}

} // namespace postern::http
