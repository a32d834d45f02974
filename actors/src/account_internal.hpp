// SPDX-License-Identifier: Apache-2.0
#pragma once

// Shared by the ACCOUNT's pool and behavior (account.cpp) and its sending
// and composing (account_send.cpp); not part of the actors library's
// interface.

#include "postern/actors/account.hpp"
#include "postern/actors/imap_connection_actor.hpp"
#include "postern/error.hpp"

#include <caf/detail/type_list.hpp>
#include <caf/response_type.hpp>
#include <caf/result.hpp>
#include <caf/typed_response_promise.hpp>

#include <chrono>
#include <functional>
#include <utility>

namespace postern::detail {

using account_self = account_actor::stateful_pointer<account_state>;

/// How long the ACCOUNT waits for the DIRECTORY, VAULT or MAIL ROUTER.
inline constexpr auto helper_timeout = std::chrono::seconds(30);

template <class T>
using then_fn = std::function<void(caf::expected<T>)>;

/// What an IMAP CONNECTION answers to the message `Ts...` (taken from its
/// interface, so a handler cannot promise another type).
template <class... Ts>
using imap_reply_t = caf::detail::tl_head_t<
  caf::response_type_t<imap_connection_actor::signatures, Ts...>>;

/// Answers a promise with a value or its error.
template <class T>
then_fn<T> deliver_to(caf::typed_response_promise<T> rp) {
  return [rp](caf::expected<T> result) mutable {
    if (result)
      rp.deliver(std::move(*result));
    else
      rp.deliver(std::move(result.error()));
  };
}

/// An error from a helper actor this ACCOUNT asked, as the ACCOUNT passes
/// it on. "Receiver down" from a helper that ended during the request
/// becomes `code` with `sentence`: callers read request_receiver_down from
/// an ACCOUNT as "this ACCOUNT ended before it took the request" and ask
/// again through the MAIL ROUTER (tool_run::ask_or), which must never
/// repeat work the helper may have done.
inline caf::error helper_error(caf::error err, ec code, const char* sentence) {
  if (err == caf::sec::request_receiver_down)
    return caf::make_error(code, sentence);
  return err;
}

/// Runs one operation on a pooled connection and hands its result to
/// `then` (before the connection goes back to the pool). An OAuth
/// account's server may refuse an access token before the expiry the
/// provider gave (revoked, clocks apart): then the token is forgotten and
/// the operation runs once more on a new connection, with a fresh token.
template <class T, class... Ts>
void with_connection_once(account_self self, caf::actor_addr requester,
                          then_fn<T> then, bool retried, Ts... xs) {
  pending_request req;
  req.requester = requester;
  // No timer of its own (each one is a wake-up of CAF's clock thread per
  // call): the connection's deadline guard bounds each network step, and
  // account_state::reap drops a connection busy for longer than
  // operation_timeout + stuck_grace, which answers this request.
  req.run = [self, then, retried, requester,
             xs...](uint64_t slot, const imap_connection_actor& c) mutable {
    self->request(c, caf::infinite, xs...)
      .then(
        [self, then, slot](T& value) mutable {
          then(std::move(value));
          self->state.finish(slot, caf::error{});
        },
        [self, then, slot, retried, requester,
         xs...](caf::error& failure) mutable {
          auto& st = self->state;
          auto err = helper_error(std::move(failure), ec::connection_failed,
                                  "the connection to the mail server ended "
                                  "before it answered; try again");
          if (!retried && st.oauth && err == ec::authentication_failed
              && st.fresh_slot(slot)) {
            st.forget_access_token();
            st.drop(slot);
            with_connection_once<T>(self, std::move(requester),
                                    std::move(then), true, xs...);
            return;
          }
          then(err);
          st.finish(slot, err);
        });
  };
  req.fail = [then](const caf::error& err) mutable { then(err); };
  self->state.submit(std::move(req));
}

/// Runs one operation on a pooled connection and hands its result to
/// `then` (see with_connection_once).
template <class T, class... Ts>
void with_connection(account_self self, caf::actor_addr requester,
                     then_fn<T> then, Ts... xs) {
  with_connection_once<T>(self, std::move(requester), std::move(then), false,
                          std::move(xs)...);
}

/// Runs one operation on a pooled connection and answers with its result.
template <class... Ts>
caf::result<imap_reply_t<Ts...>> on_connection(account_self self, Ts... xs) {
  using reply = imap_reply_t<Ts...>;
  // Called from a handler: the sender is the caller (the MAIL ROUTER
  // delegates), typically the short-lived actor of one tool call. Read
  // before make_response_promise, which moves it out of the message.
  auto caller = caf::actor_cast<caf::actor_addr>(self->current_sender());
  auto rp = self->make_response_promise<reply>();
  with_connection<reply>(self, std::move(caller), deliver_to(rp), xs...);
  return rp;
}

// -- account_send.cpp ---------------------------------------------------------

/// Sends through the account's SMTP server, then saves a copy to Sent;
/// answers once both are done (a failed copy is reported, not an error).
/// The connection's `rules` are checked on the built message's recipients
/// (Bcc included) before anything leaves.
caf::result<sent_message> send_message(account_self self,
                                       const mime::outgoing_message& msg,
                                       const send_rules& rules);

/// Sends a message built and held earlier (see send_message: the person
/// approved it) and saves a copy to Sent; counts against the send limit.
caf::result<sent_message> deliver_message(account_self self,
                                          const mime::built_message& built);

/// Completes a new message, reply or forward, then sends it or saves it as
/// a draft; answers with what was composed.
caf::result<mime::composed_message>
compose_message(account_self self, const mime::compose_request& request,
                const send_rules& rules);

} // namespace postern::detail
