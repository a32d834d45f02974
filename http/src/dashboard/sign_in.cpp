// SPDX-License-Identifier: Apache-2.0
// Log in, sign up and log out, with the device cookies that exempt a
// known browser from a username's lockout.
#include "postern/clock.hpp"
#include "postern/http/cookies.hpp"
#include "postern/storage/crypto.hpp"
#include "shared.hpp"

#include <caf/send.hpp>

#include <algorithm>
#include <cctype>

namespace postern::http::dashboard {

namespace {

struct auth_form {
  std::string csrf;
  std::string username;
  std::string next;
  std::string invite;
  ui::value errors = ui::value::object();
  std::string form_error;
  std::string throttled;
  std::vector<std::string> cookies;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string notice;
  bhttp::status status = bhttp::status::ok;
};

/// The posted sign-in or sign-up form, when its CSRF token matches the
/// pre-session cookie; `f` gets a fresh token for the page shown again.
std::optional<form_data> read_auth_form(const site& s, const request& req,
                                        auth_form& f) {
  auto form = check_pre_session_form(s, req);
  if (form)
    f.csrf = s.csrf.token(
      pre_session_binding(*find_cookie(req, s.pre_session_cookie())));
  return form;
}

response_type login_page(const site& s, const auth_form& f) {
  page p;
  p.title = "Log in";
  p.body = "login";
  p.narrow = true;
  p.status = f.status;
  p.cookies = f.cookies;
  p.headers = f.headers;
  p.notice = f.notice;
  p.data.set("csrf", f.csrf);
  p.data.set("username", f.username);
  p.data.set("next", f.next == "/dashboard" ? std::string{} : f.next);
  p.data.set("errors", f.errors);
  p.data.set("form_error", f.form_error);
  p.data.set("throttled", f.throttled);
  p.data.set("signup_open", s.signup != signup_policy::closed);
  return render_page(p);
}

response_type signup_page(const site& s, const auth_form& f) {
  page p;
  p.title = "Sign up";
  p.body = "signup";
  p.narrow = true;
  p.status = f.status;
  p.cookies = f.cookies;
  p.headers = f.headers;
  p.data.set("csrf", f.csrf);
  p.data.set("closed", s.signup == signup_policy::closed);
  p.data.set("invite_needed", s.signup == signup_policy::invite);
  p.data.set("username", f.username);
  p.data.set("invite", f.invite);
  p.data.set("errors", f.errors);
  p.data.set("form_error", f.form_error);
  return render_page(p);
}

// -- device cookies
// -------------------------------------------------------------

/// A browser that logged in successfully keeps a signed device cookie for
/// that username (OWASP's "device cookies"): it exempts the browser from
/// the username's lockout, so a stranger cannot keep the owner out.
constexpr int64_t device_cookie_days = 90;

std::string device_cookie_name(const site& s) {
  return s.secure_cookies ? "__Host-postern_device" : "postern_device";
}

std::string device_binding(std::string_view username, std::string_view nonce,
                           std::string_view expires) {
  std::string out = "device\n";
  for (char c : username)
    out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  out += '\n';
  out += nonce;
  out += '\n';
  out += expires;
  return out;
}

/// The device id (its nonce) when the request carries a valid, unexpired
/// device cookie for `username`; else empty.
std::string trusted_device(const site& s, const request& req,
                           std::string_view username) {
  auto cookie = find_cookie(req, device_cookie_name(s));
  if (!cookie || cookie->size() > 160)
    return {};
  auto dot1 = cookie->find('.');
  auto dot2 = dot1 == std::string::npos ? dot1 : cookie->find('.', dot1 + 1);
  if (dot2 == std::string::npos)
    return {};
  auto nonce = cookie->substr(0, dot1);
  auto expires = cookie->substr(dot1 + 1, dot2 - dot1 - 1);
  auto mac = cookie->substr(dot2 + 1);
  if (nonce.size() < 16 || expires.empty() || expires.size() > 12
      || !std::all_of(expires.begin(), expires.end(),
                      [](unsigned char c) { return std::isdigit(c); }))
    return {};
  if (!s.csrf.check(device_binding(username, nonce, expires), mac))
    return {};
  if (std::stoll(expires) <= unix_seconds())
    return {};
  return nonce;
}

/// A new device cookie for `username` (after a successful login).
std::string device_cookie_header(const site& s, std::string_view username) {
  auto nonce = storage::random_token(16);
  auto expires = std::to_string(unix_seconds() + device_cookie_days * 86400);
  auto mac = s.csrf.token(device_binding(username, nonce, expires));
  cookie_attributes attrs;
  attrs.secure = s.secure_cookies;
  attrs.max_age = device_cookie_days * 86400;
  attrs.same_site = "Strict";
  return set_cookie(device_cookie_name(s), nonce + "." + expires + "." + mac,
                    attrs);
}

} // namespace

void get_login(site_ptr s, const request& req, const responder& respond) {
  auto query = form_data::parse(req.query());
  auth_form f;
  std::string new_cookie;
  f.csrf = s->csrf.token(pre_session_binding(pre_session(*s, req, new_cookie)));
  if (!new_cookie.empty())
    f.cookies.push_back(new_cookie);
  f.next = safe_next(query.get("next"));
  f.notice = notice_text(query.get("notice"));
  auto cookie = find_cookie(req, s->session_cookie());
  if (!cookie || cookie->empty() || cookie->size() > 128) {
    respond(login_page(*s, f));
    return;
  }
  // Already logged in: go on, as the original does.
  run_task(*s, [s, f, token = *cookie, respond](task self) {
    self->request(s->actors.directory, page_timeout, atom::session_v, token)
      .then([respond, f](const user_info&) { respond(see_other(f.next)); },
            [s, respond, f](const caf::error&) { respond(login_page(*s, f)); });
  });
}

void post_login(site_ptr s, const request& req, const responder& respond) {
  auth_form f;
  auto form = read_auth_form(*s, req, f);
  if (!form) {
    respond(csrf_failed());
    return;
  }
  f.username = trim(form->get("username")).substr(0, 64);
  f.next = safe_next(form->get("next"));
  secret password{form->get("password")};
  bool bad = false;
  if (f.username.empty()) {
    f.errors.set("username", "Enter your username.");
    bad = true;
  }
  if (password.empty()) {
    f.errors.set("password", "Enter your password.");
    bad = true;
  }
  if (bad) {
    f.status = bhttp::status::bad_request;
    respond(login_page(*s, f));
    return;
  }
  auto address = req.client_address;
  auto device = trusted_device(*s, req, f.username);
  if (auto wait = s->throttle->begin(address, f.username, device); wait > 0) {
    f.status = bhttp::status::too_many_requests;
    f.throttled = throttled_text(wait);
    f.headers.emplace_back("Retry-After", std::to_string(wait));
    auto page = login_page(*s, f);
    // A guesser that ignores Retry-After gets one refusal a second, not
    // thousands that would crowd out everyone else's requests.
    hold_response(page, refusal_hold(wait));
    respond(std::move(page));
    return;
  }
  auto old_session = find_cookie(req, s->session_cookie());
  run_task(*s, [s, f, password, address, device, old_session,
                respond](task self) {
    self
      ->request(s->actors.directory, page_timeout, atom::login_v, f.username,
                password, address)
      .then(
        [s, f, address, device, old_session,
         respond](const session_grant& grant) {
          s->throttle->finish(address, f.username, true, device);
          // A browser that was logged in as someone else: end that session.
          if (old_session && !old_session->empty()
              && old_session->size() <= 128)
            caf::anon_send(s->actors.directory, atom::logout_v, *old_session);
          respond(see_other(f.next, {session_cookie_header(*s, grant),
                                     device_cookie_header(*s, f.username)}));
        },
        [s, f, address, device, respond](const caf::error& err) mutable {
          s->throttle->finish(address, f.username, false, device);
          if (err != ec::invalid_credentials) {
            respond(error_page(err));
            return;
          }
          f.status = bhttp::status::unauthorized;
          f.form_error = "Wrong username or password.";
          respond(login_page(*s, f));
        });
  });
}

void get_signup(site_ptr s, const request& req, const responder& respond) {
  auth_form f;
  std::string new_cookie;
  f.csrf = s->csrf.token(pre_session_binding(pre_session(*s, req, new_cookie)));
  if (!new_cookie.empty())
    f.cookies.push_back(new_cookie);
  f.invite = form_data::parse(req.query()).get("invite").substr(0, 128);
  if (s->signup == signup_policy::closed)
    f.status = bhttp::status::forbidden;
  respond(signup_page(*s, f));
}

void post_signup(site_ptr s, const request& req, const responder& respond) {
  auth_form f;
  auto form = read_auth_form(*s, req, f);
  if (!form) {
    respond(csrf_failed());
    return;
  }
  if (s->signup == signup_policy::closed) {
    f.status = bhttp::status::forbidden;
    respond(signup_page(*s, f));
    return;
  }
  f.username = trim(form->get("username")).substr(0, 64);
  f.invite = trim(form->get("invite")).substr(0, 128);
  secret password{form->get("password")};
  bool bad = false;
  if (auto err = validate_username(f.username)) {
    f.errors.set("username", sentence(describe(err)));
    bad = true;
  }
  if (auto err = validate_password(f.username, password)) {
    f.errors.set("password", sentence(describe(err)));
    bad = true;
  } else if (form->get("confirm") != password.reveal()) {
    f.errors.set("confirm", "The two passwords differ.");
    bad = true;
  }
  if (s->signup == signup_policy::invite && f.invite.empty()) {
    f.errors.set("invite", "Enter the invite code you were given.");
    bad = true;
  }
  if (bad) {
    f.status = bhttp::status::bad_request;
    respond(signup_page(*s, f));
    return;
  }
  // Each sign-up costs a password hash: limit them per address (never
  // refunded; no username part).
  auto address = req.client_address;
  if (auto wait = s->signup_throttle->begin(address, {}); wait > 0) {
    f.status = bhttp::status::too_many_requests;
    f.form_error = throttled_text(wait);
    f.headers.emplace_back("Retry-After", std::to_string(wait));
    auto page = signup_page(*s, f);
    hold_response(page, refusal_hold(wait));
    respond(std::move(page));
    return;
  }
  run_task(*s, [s, f, password, address, respond](task self) {
    self
      ->request(s->actors.directory, page_timeout, atom::signup_v, f.username,
                password, f.invite, address)
      .then(
        [s, respond](const session_grant& grant) {
          respond(see_other("/dashboard?notice=welcome",
                            {session_cookie_header(*s, grant)}));
        },
        [s, f, respond](const caf::error& err) mutable {
          // The DIRECTORY's rules name their field (username, password,
          // invite); a closed sign-up names none.
          auto text = sentence(describe(err));
          auto field = error_field(err);
          if (!field.empty()) {
            f.errors.set(field, text);
          } else if (err == ec::forbidden || err == ec::invalid_argument) {
            f.form_error = text;
          } else {
            respond(error_page(err));
            return;
          }
          f.status = bhttp::status::bad_request;
          respond(signup_page(*s, f));
        });
  });
}

void post_logout(site_ptr s, const request& req, const responder& respond) {
  auto address = req.client_address;
  with_session_form(
    s, req, respond,
    [s, address, respond](task self, const web_session& ws, const form_data&) {
      self->request(s->actors.directory, page_timeout, atom::logout_v, ws.token)
        .then(
          [s, ws, address, respond](atom::ok) {
            caf::anon_send(s->actors.directory, atom::audit_v,
                           audit_event{0, ws.user.id, "web", "logout",
                                       ws.user.username, "ok", address});
            respond(see_other(
              "/login?notice=logged-out",
              {delete_cookie(s->session_cookie(), s->secure_cookies)}));
          },
          fail_page(respond, ws));
    });
}

void get_logout(site_ptr s, const request& req, const responder& respond) {
  // GET never logs out (a link or an image could trigger it): it shows the
  // button that does.
  with_session(s, req, respond, [respond](task, const web_session& ws) {
    page p;
    p.title = "Log out";
    p.body = "logout";
    p.session = &ws;
    respond(render_page(p));
  });
}

} // namespace postern::http::dashboard
