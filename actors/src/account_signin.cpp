// SPDX-License-Identifier: Apache-2.0
// The ACCOUNT's OAuth sign-in: an access token from the mail provider,
// kept in memory only, refreshed ahead of its expiry, once per account
// however many connections need it at the same moment. The token request
// itself blocks (HTTP to the provider), so it runs on a detached helper,
// never on a CAF worker.
#include "account_internal.hpp"
#include "postern/actors/provider_call.hpp"
#include "postern/clock.hpp"
#include "postern/error.hpp"
#include "postern/log.hpp"

#include <caf/event_based_actor.hpp>

namespace postern {

using namespace std::chrono_literals;

namespace {

/// What a person reads when their provider refused the stored sign-in.
caf::error signin_again(const account_settings& settings,
                        const std::string& title) {
  auto address = email_address(settings);
  return caf::make_error(ec::signin_required,
                         "The account \"" + settings.label + "\""
                           + (address.empty() ? "" : " (" + address + ")")
                           + " needs you to sign in to " + title
                           + " again: open the Postern dashboard, Accounts, "
                             "and press Reconnect");
}

/// When to ask for the next token: well before the provider's expiry
/// (five minutes, or half the lifetime of a short-lived token).
std::chrono::seconds renew_after(int64_t expires_in) {
  auto lifetime = std::chrono::seconds{std::max<int64_t>(expires_in, 1)};
  return std::max(lifetime - 300s, lifetime / 2);
}

} // namespace

bool account_state::fresh_slot(uint64_t slot_id) const {
  for (auto& s : pool)
    if (s.id == slot_id)
      return !s.proven;
  return false;
}

void account_state::forget_access_token() {
  access_token.wipe();
  access_renew_at = {};
}

void account_state::with_access_token(
  const account_settings& settings,
  std::function<void(caf::expected<secret>)> then) {
  const oauth::mail_provider* provider
    = opts.providers ? opts.providers->find(settings.oauth_provider) : nullptr;
  if (provider == nullptr)
    return then(caf::make_error(
      ec::not_supported, "The account \"" + settings.label
                           + "\" signs in with the provider \""
                           + settings.oauth_provider
                           + "\", which this server no longer offers; ask "
                             "its operator"));
  if (settings.needs_signin)
    return then(signin_again(settings, provider->title));
  if (!access_token.empty() && steady_now() < access_renew_at)
    return then(access_token);
  token_waiters.push_back(std::move(then));
  if (token_waiters.size() > 1)
    return; // the refresh in flight answers this one too
  auto st = this;
  auto finish = [st](caf::expected<secret> result) {
    auto waiting = std::move(st->token_waiters);
    st->token_waiters.clear();
    for (auto& w : waiting)
      w(result);
  };
  // Copies for the helper thread: the state may change meanwhile.
  auto p = *provider;
  auto transport = opts.token_transport ? opts.token_transport
                                        : oauth::https_token_transport();
  auto timeout = opts.token_timeout;
  self->request(vault, detail::helper_timeout, atom::get_v, ref.user,
                ref.account)
    .then(
      [st, settings, p, transport, timeout,
       finish](account_credentials& creds) mutable {
        if (creds.oauth_refresh_token.empty())
          return finish(signin_again(settings, p.title));
        auto refresh = std::move(creds.oauth_refresh_token);
        creds.imap_password.wipe();
        auto helper = spawn_token_call(st->self, p, transport,
                                       oauth::refresh_request(p, refresh),
                                       timeout);
        auto asked = steady_now();
        st->self->request(helper, timeout + 5s, atom::refresh_v)
          .then(
            [st, settings, asked, finish](oauth_access& got) mutable {
              st->access_token = got.access_token;
              st->access_renew_at = asked + renew_after(got.expires_in);
              POSTERN_INFO("account {}/{}: provider access token refreshed",
                           st->ref.user.value, st->ref.account.value);
              if (got.refresh_token.empty())
                return finish(std::move(got.access_token));
              // Rotated: the old refresh token is spent, so the new one is
              // stored before anything goes on (a crash now loses nothing
              // the provider still accepts).
              account_credentials rotated;
              rotated.oauth_refresh_token = std::move(got.refresh_token);
              auto token = std::move(got.access_token);
              st->self
                ->request(st->directory, detail::helper_timeout,
                          atom::signin_v, st->ref.user, st->ref.account,
                          rotated)
                .then(
                  [finish, token](const account_settings&) mutable {
                    finish(std::move(token));
                  },
                  [st, finish](caf::error& err) mutable {
                    POSTERN_WARN("account {}/{}: could not store the "
                                 "rotated refresh token: {}",
                                 st->ref.user.value, st->ref.account.value,
                                 describe(err));
                    st->forget_access_token();
                    finish(std::move(err));
                  });
            },
            [st, settings, title = p.title, finish](caf::error& err) mutable {
              if (err == ec::signin_required) {
                POSTERN_INFO("account {}/{}: the provider refused the "
                             "refresh token; the person must sign in again",
                             st->ref.user.value, st->ref.account.value);
                st->forget_access_token();
                st->self
                  ->request(st->directory, detail::helper_timeout,
                            atom::signin_needed_v, st->ref.user,
                            st->ref.account)
                  .then([](const account_settings&) {},
                        [](caf::error&) {});
                return finish(signin_again(settings, title));
              }
              finish(std::move(err));
            });
      },
      [finish](caf::error& err) mutable { finish(std::move(err)); });
}

} // namespace postern
