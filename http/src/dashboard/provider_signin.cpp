// SPDX-License-Identifier: Apache-2.0
// "Sign in with <provider>" (issue 16): the authorization code flow with
// PKCE at a mail provider, from the add form and the Reconnect button. The
// start remembers the sign-in under a random `state` bound to this login;
// the callback takes it out once, redeems the code at the provider's token
// endpoint (on a detached helper: the call blocks), logs into IMAP with the
// fresh access token to check it opens the address the person named, and
// only then stores the refresh token (a new account, or the renewed
// sign-in of an existing one).
#include "postern/actors/mail_actor.hpp"
#include "postern/actors/provider_call.hpp"
#include "postern/log.hpp"
#include "postern/mime/address.hpp"
#include "postern/storage/crypto.hpp"
#include "shared.hpp"

#include <caf/send.hpp>

namespace postern::http::dashboard {

namespace {

using namespace std::chrono_literals;

/// The token endpoint's own bound; the helper is asked a little longer.
constexpr auto token_timeout = 20s;
/// The IMAP (and SMTP) login that checks the new sign-in.
constexpr auto check_timeout = std::chrono::seconds(150);
/// The longest code Postern passes on (providers' are under 2 KiB).
constexpr size_t max_code = 4096;

std::string redirect_uri(const site& s) {
  auto base = s.base_url;
  while (!base.empty() && base.back() == '/')
    base.pop_back();
  return base + "/accounts/oauth/callback";
}

std::string session_hash(const web_session& ws) {
  return storage::sha256(ws.token);
}

/// The provider's authorization URL for one sign-in.
std::string authorization_url(const site& s, const oauth::mail_provider& p,
                              const std::string& state,
                              const provider_signin& signin) {
  std::string url = p.authorization_endpoint;
  url += url.find('?') == std::string::npos ? '?' : '&';
  auto add = [&url, first = true](std::string_view k,
                                  std::string_view v) mutable {
    if (!first)
      url += '&';
    first = false;
    url += url_encode(k) + "=" + url_encode(v);
  };
  add("response_type", "code");
  add("client_id", p.client_id);
  add("redirect_uri", redirect_uri(s));
  add("scope", p.scopes);
  add("state", state);
  add("code_challenge", pkce_challenge(signin.verifier));
  add("code_challenge_method", "S256");
  // Opens the provider's sign-in at the right mailbox.
  add("login_hint", signin.address);
  for (auto& [k, v] : p.authorize_params)
    add(k, v);
  return url;
}

response_type signin_failed(const web_session& ws, bhttp::status status,
                            std::string message) {
  return message_page(status, "Not signed in", std::move(message), &ws,
                      "/accounts/add", "Add an email account");
}

/// A provider's error code as given, when it is one (RFC 6749 §4.1.2.1:
/// a word of letters and underscores); never its free text.
std::string error_code(std::string_view code) {
  if (code.empty() || code.size() > 64
      || code.find_first_not_of("abcdefghijklmnopqrstuvwxyz_")
           != std::string_view::npos)
    return "unknown_error";
  return std::string{code};
}

/// The settings of a new account at `p` for `address`.
account_settings provider_account(const web_session& ws,
                                  const oauth::mail_provider& p,
                                  const provider_signin& signin) {
  account_settings st;
  st.owner = ws.user.id;
  st.label = signin.label;
  st.oauth_provider = p.name;
  st.imap = p.imap;
  st.imap.username = signin.address;
  st.has_smtp = !p.smtp.host.empty();
  if (st.has_smtp) {
    st.smtp = p.smtp;
    st.smtp.username = signin.address;
  }
  return st;
}

/// Stores the checked sign-in: a new account, or the renewed refresh token
/// of the one being reconnected (and its ACCOUNT starts afresh).
void store_signin(task self, site_ptr s, const web_session& ws,
                  const account_settings& st, bool reconnect, secret refresh,
                  bool smtp_refused, const responder& respond) {
  account_credentials creds;
  creds.oauth_refresh_token = std::move(refresh);
  auto notice = smtp_refused ? std::string{"added_smtp_refused"}
                             : std::string{reconnect ? "reconnected" : "added"};
  if (reconnect) {
    self
      ->request(s->actors.directory, page_timeout, atom::signin_v, ws.user.id,
                st.id, creds)
      .then(
        [s, ws, respond, notice](const account_settings& acc) {
          caf::anon_send(s->actors.mail, atom::forget_v,
                         mailbox_ref{ws.user.id, acc.id});
          respond(see_other("/dashboard?notice=" + notice));
        },
        fail_page(respond, ws));
    return;
  }
  self
    ->request(s->actors.directory, page_timeout, atom::add_account_v, st,
              creds)
    .then(
      [respond, notice](const account_settings&) {
        respond(see_other("/dashboard?notice=" + notice));
      },
      fail_page(respond, ws));
}

/// What the steps after a callback carry from one to the next.
struct callback_steps {
  task self;
  site_ptr s;
  web_session ws;
  account_settings st;
  bool reconnect = false;
  std::string title;
  responder respond;
};

/// Second step: logs into IMAP (and SMTP) with the fresh access token, so
/// that nothing is stored for a mailbox the sign-in does not open; then the
/// refresh token is stored (store_signin).
void check_mailbox(std::shared_ptr<const callback_steps> c, oauth_access got) {
  const auto& title = c->title;
  if (got.refresh_token.empty()) {
    c->respond(signin_failed(
      c->ws, bhttp::status::bad_gateway,
      title + " signed you in but gave Postern no refresh token, so the "
              "account could not stay signed in. Nothing was saved: try "
              "again, and allow offline access if "
        + title + " asks."));
    return;
  }
  account_credentials check;
  check.imap_password = std::move(got.access_token);
  auto refresh = std::make_shared<secret>(std::move(got.refresh_token));
  c->self
    ->request(c->s->actors.mail, check_timeout, atom::probe_v, c->st, check)
    .then(
      [c, refresh](const probe_report& r) {
        if (!r.imap_ok) {
          c->respond(signin_failed(
            c->ws, bhttp::status::unprocessable_entity,
            "You signed in at " + c->title + ", but its IMAP server did not "
              "open " + c->st.imap.username + " with that sign-in ("
              + r.imap_message + "). Nothing was saved. If you signed in as "
              "another address, start again with that one."));
          return;
        }
        store_signin(c->self, c->s, c->ws, c->st, c->reconnect,
                     std::move(*refresh), r.smtp_tested && !r.smtp_ok,
                     c->respond);
      },
      [c](const caf::error& err) {
        if (err == ec::too_busy) {
          c->respond(signin_failed(c->ws, bhttp::status::too_many_requests,
                                   sentence(describe(err))));
          return;
        }
        c->respond(error_page(err, &c->ws));
      });
}

/// First step: redeems the code at the provider's token endpoint (on a
/// detached helper), then check_mailbox.
void redeem(task self, site_ptr s, const web_session& ws,
            const oauth::mail_provider& p, provider_signin signin,
            account_settings st, std::string code, const responder& respond) {
  auto helper
    = spawn_token_call(self, p, oauth::https_token_transport(),
                       oauth::code_request(p, code, signin.verifier.reveal(),
                                           redirect_uri(*s)),
                       token_timeout);
  auto steps = std::make_shared<const callback_steps>(
    callback_steps{self, s, ws, std::move(st), signin.reconnect.has_value(),
                   p.title, respond});
  self->request(helper, token_timeout + 5s, atom::refresh_v)
    .then(
      [steps](oauth_access& got) { check_mailbox(steps, std::move(got)); },
      [steps](const caf::error& err) {
        POSTERN_INFO("dashboard: {} refused a sign-in's code: {}",
                     steps->title, describe(err));
        steps->respond(signin_failed(steps->ws, bhttp::status::bad_gateway,
                                     sentence(describe(err))
                                       + " Nothing was saved: start again."));
      });
}

/// Starts a sign-in for `signin`: remembered, then off to the provider.
void begin_signin(const site& s, const oauth::mail_provider& p,
                  provider_signin signin, const web_session& ws,
                  const responder& respond) {
  signin.verifier = secret{storage::random_token(32)};
  auto copy = signin;
  auto state = s.signins->begin(std::move(signin));
  if (!state) {
    respond(signin_failed(ws, bhttp::status::too_many_requests,
                          sentence(describe(state.error()))));
    return;
  }
  auto res = see_other(authorization_url(s, p, *state, copy));
  res.set(bhttp::field::cache_control, "no-store");
  respond(std::move(res));
}

} // namespace

void post_signin_start(site_ptr s, const request& req,
                       const responder& respond) {
  with_session_form(s, req, respond, [s, respond](task self,
                                                  const web_session& ws,
                                                  const form_data& form) {
    const auto* p = s->actors.providers
                      ? s->actors.providers->find(form.get("provider"))
                      : nullptr;
    if (p == nullptr) {
      respond(signin_failed(ws, bhttp::status::bad_request,
                            "This server offers no sign-in with that "
                            "provider."));
      return;
    }
    provider_signin signin;
    signin.user = ws.user.id;
    signin.session_hash = session_hash(ws);
    signin.provider = p->name;
    if (auto id = form.get("account"); !id.empty()) {
      // Reconnect: the stored account says which mailbox and provider.
      if (!valid_id(id)) {
        respond(not_found_page(&ws, "No such email account."));
        return;
      }
      self
        ->request(s->actors.directory, page_timeout, atom::get_v, ws.user.id,
                  account_id{id})
        .then(
          [s, ws, p, signin, respond](const account_settings& acc) mutable {
            if (acc.oauth_provider != p->name) {
              respond(signin_failed(ws, bhttp::status::bad_request,
                                    "The account “" + acc.label
                                      + "” does not sign in with "
                                      + p->title + "."));
              return;
            }
            signin.address = acc.imap.username;
            signin.label = acc.label;
            signin.reconnect = acc.id;
            begin_signin(*s, *p, std::move(signin), ws, respond);
          },
          fail_page(respond, ws));
      return;
    }
    signin.address = trim(form.get("address"));
    signin.label = trim(form.get("label"));
    if (signin.address.empty() || signin.address.size() > 320
        || !mime::is_sendable_address(signin.address)) {
      respond(signin_failed(ws, bhttp::status::bad_request,
                            "Enter the email address to sign in with, such "
                            "as you@example.com."));
      return;
    }
    if (signin.label.empty())
      signin.label = signin.address.substr(0, 100);
    if (signin.label.size() > 100) {
      respond(signin_failed(ws, bhttp::status::bad_request,
                            "Use at most 100 characters for the account's "
                            "name."));
      return;
    }
    begin_signin(*s, *p, std::move(signin), ws, respond);
  });
}

void get_signin_callback(site_ptr s, const request& req,
                         const responder& respond) {
  auto q = form_data::parse(req.query(), 20);
  with_session(s, req, respond, [s, q, respond](task self,
                                                const web_session& ws) {
    auto expired = [&ws, &respond] {
      respond(signin_failed(ws, bhttp::status::bad_request,
                            "This sign-in has expired or was already used. "
                            "Nothing was saved: start again from Add an "
                            "email account."));
    };
    auto signin = s->signins->finish(q.get("state"));
    // Another login's sign-in is answered as an unknown one: the page
    // tells nobody whose it was.
    if (!signin || signin->user != ws.user.id
        || !constant_time_equal(signin->session_hash, session_hash(ws))) {
      expired();
      return;
    }
    const auto* p = s->actors.providers
                      ? s->actors.providers->find(signin->provider)
                      : nullptr;
    if (p == nullptr) {
      expired();
      return;
    }
    if (q.has("error")) {
      auto code = error_code(q.get("error"));
      respond(signin_failed(
        ws, bhttp::status::bad_request,
        code == "access_denied"
          ? "You did not allow Postern at " + p->title + ". Nothing was saved."
          : p->title + " did not sign you in (" + code
              + "). Nothing was saved: start again."));
      return;
    }
    auto code = q.get("code");
    if (code.empty() || code.size() > max_code) {
      respond(signin_failed(ws, bhttp::status::bad_request,
                            p->title + " sent no usable sign-in back. "
                                       "Nothing was saved: start again."));
      return;
    }
    if (!signin->reconnect) {
      auto st = provider_account(ws, *p, *signin);
      redeem(self, s, ws, *p, std::move(*signin), std::move(st),
             std::move(code), respond);
      return;
    }
    // Reconnect: checked with the account's stored servers.
    auto id = *signin->reconnect;
    self->request(s->actors.directory, page_timeout, atom::get_v, ws.user.id, id)
      .then(
        [self, s, ws, p, signin = std::move(*signin), code,
         respond](const account_settings& acc) mutable {
          redeem(self, s, ws, *p, std::move(signin), acc, std::move(code),
                 respond);
        },
        fail_page(respond, ws));
  });
}

} // namespace postern::http::dashboard
