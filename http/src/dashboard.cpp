// SPDX-License-Identifier: Apache-2.0
#include "postern/http/dashboard.hpp"

#include "postern/actors/directory.hpp"
#include "postern/actors/mail_actor.hpp"
#include "postern/clock.hpp"
#include "postern/error.hpp"
#include "postern/grant.hpp"
#include "postern/host_policy.hpp"
#include "postern/http/cookies.hpp"
#include "postern/http/responses.hpp"
#include "postern/http/web.hpp"
#include "postern/log.hpp"
#include "postern/oauth/uri.hpp"
#include "postern/storage/crypto.hpp"

#include <caf/send.hpp>

#include <algorithm>
#include <cctype>
#include <functional>
#include <map>

namespace postern::http {

namespace {

using namespace web;
using site_ptr = std::shared_ptr<const site>;
using verb = bhttp::verb;

/// IMAP and SMTP logins with their timeouts; the MAIL ROUTER bounds each
/// step, this only catches a lost reply.
constexpr auto probe_timeout = std::chrono::seconds(150);

/// Events shown on the dashboard (recent activity).
constexpr uint64_t dashboard_events = 6;

/// Events on the activity page.
constexpr uint64_t activity_events = 200;

std::string trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front())))
    s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())))
    s.remove_suffix(1);
  return std::string{s};
}

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

/// "the username must ..." -> "The username must ...."
std::string sentence(std::string text) {
  if (text.empty())
    return text;
  if (text.front() >= 'a' && text.front() <= 'z')
    text.front() = static_cast<char>(text.front() - 'a' + 'A');
  if (text.back() != '.' && text.back() != '?' && text.back() != '!')
    text += '.';
  return text;
}

bool wants_json(const request& req) {
  auto accept = req.raw[bhttp::field::accept];
  return std::string_view{accept.data(), accept.size()}.find("application/json")
         != std::string_view::npos;
}

/// The fixed messages a redirect may ask for (never reflected text).
std::string notice_text(std::string_view code) {
  static const std::map<std::string_view, std::string_view> texts = {
    {"welcome", "Welcome to Postern. Add an email account to get started."},
    {"added", "The email account was added."},
    {"updated", "The email account was saved."},
    {"deleted", "The email account was deleted."},
    {"revoked", "The agent connection was revoked: its next request is "
                "refused."},
    {"password-changed", "Your password was changed. Other browsers were "
                         "logged out."},
    {"logged-out", "You are logged out."},
  };
  auto i = texts.find(code);
  return i == texts.end() ? std::string{} : std::string{i->second};
}

std::string_view security_words(transport_security s) {
  switch (s) {
    case transport_security::tls:
      return "TLS";
    case transport_security::starttls:
      return "STARTTLS";
    case transport_security::plain:
      return "no encryption";
  }
  return "?";
}

std::string where(const server_settings& s) {
  return s.host + ":" + std::to_string(s.port) + " · "
         + std::string{security_words(s.security)};
}

std::string_view scope_words(scope s) {
  switch (s) {
    case scope::folders:
      return "List folders";
    case scope::read:
      return "Read mail";
    case scope::search:
      return "Search";
    case scope::modify:
      return "Move and flag";
    case scope::send:
      return "Send mail";
    case scope::draft:
      return "Write drafts";
  }
  return "?";
}

std::string count_words(size_t n, std::string_view one, std::string_view many) {
  return std::to_string(n) + " " + std::string{n == 1 ? one : many};
}

/// Failure callback answering an error page.
auto fail_page(const responder& respond, const web_session& ws) {
  return [respond, ws](const caf::error& err) { respond(error_page(err, &ws)); };
}

// -- activity -----------------------------------------------------------------

bool event_ok(const audit_event& e) {
  return e.outcome == "ok" || starts_with(e.outcome, "ok ");
}

/// Human names of OAuth clients by client id (from the TOKEN AUTHORITY).
using client_names = std::map<std::string, std::string>;

/// True for audit actors that are OAuth client ids.
bool is_client_actor(const std::string& actor) {
  return actor != "web" && actor != "admin" && actor != "system"
         && actor != "admin-token";
}

std::string client_words(const std::string& id, const client_names& names) {
  auto i = names.find(id);
  if (i != names.end() && !i->second.empty())
    return i->second;
  // A client metadata document is not stored: its host names it.
  if (oauth::is_metadata_client_id(id))
    return oauth::host_of(id);
  return id;
}

std::string who_words(const audit_event& e, const client_names& names) {
  if (e.actor == "web")
    return "You";
  if (e.actor == "admin")
    return "Operator";
  if (e.actor == "system")
    return "Postern";
  if (e.actor == "admin-token")
    return "Agent (operator-issued token)";
  return "Agent " + client_words(e.actor, names);
}

std::string what_words(const audit_event& e) {
  static const std::map<std::string_view, std::string_view> words = {
    {"signup", "Signed up"},
    {"logout", "Logged out"},
    {"password.change", "Changed the password"},
    {"account.add", "Added email account"},
    {"account.update", "Changed email account"},
    {"account.delete", "Deleted email account"},
    {"grant.revoke", "Revoked agent connection"},
    {"user.create", "Account created by the operator"},
  };
  if (e.action == "login")
    return event_ok(e) ? "Logged in" : "Login failed";
  if (e.action == "password.change" && !event_ok(e))
    return "Password change failed";
  if (starts_with(e.action, "tool."))
    return "Used " + e.action.substr(5);
  auto i = words.find(e.action);
  return i == words.end() ? e.action : std::string{i->second};
}

/// The account id a target names: the whole target of account changes,
/// "account <id>" inside the targets of tool calls and revocations.
std::string account_in(const audit_event& e) {
  if (starts_with(e.action, "account."))
    return e.target;
  auto pos = e.target.find("account ");
  if (pos == std::string::npos)
    return {};
  auto rest = e.target.substr(pos + 8);
  return rest.substr(0, rest.find(','));
}

/// The part of a revocation's target naming the agent.
std::string client_in(const std::string& target) {
  auto pos = target.find("client ");
  if (pos == std::string::npos)
    return {};
  auto rest = target.substr(pos + 7);
  return rest.substr(0, rest.find(','));
}

ui::value event_view(const audit_event& e,
                     const std::map<std::string, std::string>& labels,
                     const client_names& names) {
  auto v = ui::value::object();
  auto seconds = e.time_ms / 1000;
  v.set("time", format_time(seconds));
  v.set("time_iso", iso_time(seconds));
  v.set("who", who_words(e, names));
  v.set("what", what_words(e));
  auto ok = event_ok(e);
  std::string target;
  auto account = account_in(e);
  auto label = labels.find(account);
  auto named = label != labels.end() ? "“" + label->second + "”"
               : account.empty()     ? std::string{}
                                     : std::string{"a deleted account"};
  if (starts_with(e.action, "tool.")) {
    target = named.empty() ? std::string{} : "on " + named;
  } else if (e.action == "grant.revoke") {
    auto client = client_in(e.target);
    target = (client == "admin-token" ? std::string{"operator-issued token"}
                                      : client_words(client, names))
             + (named.empty() ? std::string{} : " on " + named);
  } else if (starts_with(e.action, "account.")) {
    target = named;
  } else if (e.action == "login" && !ok) {
    // The username that was tried.
    target = e.target;
  } else if (e.action != "login" && e.action != "signup"
             && e.action != "logout" && e.action != "password.change") {
    target = e.target;
  }
  v.set("target", target);
  v.set("failed", !ok);
  v.set("outcome", ok ? sentence(e.outcome) : e.outcome);
  v.set("address", e.address);
  return v;
}

/// Asks the TOKEN AUTHORITY for the names of the agents in `events`, then
/// calls `done` (with what it knows; ids stay ids when it cannot answer).
void with_client_names(task self, const site& s,
                       const std::vector<audit_event>& events,
                       std::function<void(client_names)> done) {
  std::vector<std::string> ids;
  for (auto& e : events)
    if (is_client_actor(e.actor)
        && std::find(ids.begin(), ids.end(), e.actor) == ids.end())
      ids.push_back(e.actor);
  if (ids.empty()) {
    done({});
    return;
  }
  self->request(s.actors.tokens, page_timeout, atom::list_v, ids)
    .then(
      [ids, done](const std::vector<std::string>& names) {
        client_names result;
        for (size_t i = 0; i < ids.size() && i < names.size(); ++i)
          result.emplace(ids[i], names[i]);
        done(std::move(result));
      },
      [done](const caf::error& err) {
        POSTERN_WARN("web: cannot read client names: {}", render(err));
        done({});
      });
}

std::map<std::string, std::string>
label_map(const std::vector<account_settings>& accounts) {
  std::map<std::string, std::string> labels;
  for (auto& a : accounts)
    labels.emplace(a.id.value, a.label);
  return labels;
}

// -- login and sign-up --------------------------------------------------------

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

/// How long a throttled refusal is held back: half the wait, at most a
/// second, so that a client which honours Retry-After is never made to
/// wait longer than it was told.
std::chrono::milliseconds refusal_hold(int64_t wait_seconds) {
  return std::min<std::chrono::milliseconds>(std::chrono::seconds(1),
                                             std::chrono::milliseconds(wait_seconds * 500));
}

std::string throttled_text(int64_t seconds) {
  auto when = seconds < 90 ? count_words(static_cast<size_t>(seconds),
                                         "second", "seconds")
                           : count_words(static_cast<size_t>((seconds + 59) / 60),
                                         "minute", "minutes");
  return "Too many attempts for this username or from your network. Wait "
         + when + ", then try again.";
}

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
            [s, respond, f](const caf::error&) {
              respond(login_page(*s, f));
            });
  });
}

// -- device cookies -------------------------------------------------------------

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

void post_login(site_ptr s, const request& req, const responder& respond) {
  auto form = check_pre_session_form(*s, req);
  if (!form) {
    respond(csrf_failed());
    return;
  }
  auth_form f;
  f.csrf = s->csrf.token(
    pre_session_binding(*find_cookie(req, s->pre_session_cookie())));
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
          if (old_session && !old_session->empty() && old_session->size() <= 128)
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
  auto form = check_pre_session_form(*s, req);
  if (!form) {
    respond(csrf_failed());
    return;
  }
  auth_form f;
  f.csrf = s->csrf.token(
    pre_session_binding(*find_cookie(req, s->pre_session_cookie())));
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
          auto text = sentence(describe(err));
          if (err == ec::already_exists) {
            f.errors.set("username", text);
          } else if (err == ec::invalid_argument) {
            f.errors.set(starts_with(describe(err), "the password")
                           ? "password"
                           : "username",
                         text);
          } else if (err == ec::forbidden) {
            if (s->signup == signup_policy::invite)
              f.errors.set("invite", text);
            else
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

// -- logout -------------------------------------------------------------------

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
            respond(see_other("/login?notice=logged-out",
                              {delete_cookie(s->session_cookie(),
                                             s->secure_cookies)}));
          },
          fail_page(respond, ws));
    });
}

void get_logout(site_ptr s, const request& req, const responder& respond) {
  // GET never logs out (a link or an image could trigger it): it shows the
  // button that does.
  with_session(s, req, respond,
               [respond](task, const web_session& ws) {
                 page p;
                 p.title = "Log out";
                 p.body = "logout";
                 p.session = &ws;
                 respond(render_page(p));
               });
}

// -- dashboard ----------------------------------------------------------------

ui::value account_view(const account_settings& a,
                       const std::vector<grant_info>& grants) {
  auto v = ui::value::object();
  v.set("id", a.id.value);
  v.set("label", a.label);
  v.set("imap_username", a.imap.username);
  v.set("imap_where", where(a.imap));
  v.set("smtp_where", a.has_smtp ? where(a.smtp) : std::string{});
  auto n = static_cast<size_t>(
    std::count_if(grants.begin(), grants.end(),
                  [&](const grant_info& g) { return g.account == a.id; }));
  v.set("agents", n == 0 ? std::string{"none"}
                         : count_words(n, "agent", "agents"));
  return v;
}

ui::value connection_view(const grant_info& g,
                          const std::map<std::string, std::string>& labels) {
  auto v = ui::value::object();
  v.set("id", g.id.value);
  if (g.origin == grant_origin::admin) {
    v.set("client", "Operator-issued token");
    v.set("client_detail", "postern admin issue-token");
  } else {
    // The name the client gave itself; its id only for grants from before
    // names were recorded.
    v.set("client", g.client_name.empty() ? g.client_id : g.client_name);
    v.set("client_detail", "OAuth client");
  }
  auto i = labels.find(g.account.value);
  v.set("account_label",
        i == labels.end() ? std::string{"(deleted account)"} : i->second);
  auto scopes = ui::value::list();
  for (auto sc : all_scopes)
    if (has_scope(g.scopes, sc))
      scopes.push(ui::value::object()
                    .set("name", to_string(sc))
                    .set("words", scope_words(sc)));
  v.set("scopes", std::move(scopes));
  v.set("created", format_time(g.created_at));
  v.set("created_iso", iso_time(g.created_at));
  if (g.last_used_at > 0) {
    v.set("last_used", format_time(g.last_used_at));
    v.set("last_used_iso", iso_time(g.last_used_at));
  } else {
    v.set("last_used", "never");
  }
  return v;
}

/// What the dashboard shows, gathered from three actors.
struct dashboard_data {
  std::vector<account_settings> accounts;
  std::vector<grant_info> grants;
  std::string grants_error;
  std::vector<audit_event> events;
  client_names clients;
};

response_type dashboard_page(const web_session& ws, const dashboard_data& d,
                             std::string notice) {
  page p;
  p.title = "Dashboard";
  p.body = "dashboard";
  p.session = &ws;
  p.nav = "dashboard";
  p.notice = std::move(notice);
  auto labels = label_map(d.accounts);
  p.data.set("username", ws.user.username);
  auto accounts = ui::value::list();
  for (auto& a : d.accounts)
    accounts.push(account_view(a, d.grants));
  p.data.set("has_accounts", !d.accounts.empty());
  p.data.set("accounts", std::move(accounts));
  auto now = unix_seconds();
  auto connections = ui::value::list();
  for (auto& g : d.grants)
    if (g.expires_at == 0 || g.expires_at > now)
      connections.push(connection_view(g, labels));
  p.data.set("has_connections", connections.truthy());
  p.data.set("connections", std::move(connections));
  p.data.set("connections_error", d.grants_error);
  auto recent = ui::value::list();
  for (size_t i = 0; i < d.events.size() && i < 6; ++i)
    recent.push(event_view(d.events[i], labels, d.clients));
  p.data.set("has_recent", recent.truthy());
  p.data.set("recent", std::move(recent));
  return render_page(p);
}

void get_dashboard(site_ptr s, const request& req, const responder& respond) {
  auto notice = notice_text(form_data::parse(req.query()).get("notice"));
  with_session(s, req, respond, [s, respond, notice](task self,
                                                     const web_session& ws) {
    auto data = std::make_shared<dashboard_data>();
    auto fail = fail_page(respond, ws);
    auto show = [respond, ws, data, notice] {
      respond(dashboard_page(ws, *data, notice));
    };
    auto get_events = [self, s, ws, data, show] {
      self
        ->request(s->actors.directory, page_timeout, atom::audit_log_v,
                  ws.user.id, dashboard_events)
        .then(
          [self, s, data, show](std::vector<audit_event>& events) {
            data->events = std::move(events);
            with_client_names(self, *s, data->events,
                              [data, show](client_names names) {
                                data->clients = std::move(names);
                                show();
                              });
          },
          [show](const caf::error& err) {
            POSTERN_WARN("web: cannot read the audit log: {}", render(err));
            show();
          });
    };
    self->request(s->actors.directory, page_timeout, atom::list_v, ws.user.id)
      .then(
        [self, s, ws, data, get_events](std::vector<account_settings>& accounts) {
          data->accounts = std::move(accounts);
          self->request(s->actors.tokens, page_timeout, atom::list_v, ws.user.id)
            .then(
              [data, get_events](std::vector<grant_info>& grants) {
                data->grants = std::move(grants);
                get_events();
              },
              [data, get_events](const caf::error& err) {
                POSTERN_WARN("web: cannot list grants: {}", render(err));
                data->grants_error = "Agent connections cannot be shown right "
                                     "now; reload the page in a moment.";
                get_events();
              });
        },
        fail);
  });
}

// -- email accounts -----------------------------------------------------------

/// A posted account form, read and checked.
struct account_form {
  account_settings settings;
  account_credentials creds;
  ui::value errors = ui::value::object();
  bool has_errors = false;
  std::string form_error;
  bool test = false;
  bool save_anyway = false;
  bool typed_password = false;

  void error(const std::string& field, std::string message) {
    if (!errors.find(field))
      errors.set(field, std::move(message));
    has_errors = true;
  }
};

std::optional<uint16_t> parse_port(const std::string& text) {
  if (text.empty() || text.size() > 5
      || text.find_first_not_of("0123456789") != std::string::npos)
    return std::nullopt;
  auto n = std::stoul(text);
  if (n == 0 || n > 65535)
    return std::nullopt;
  return static_cast<uint16_t>(n);
}

void read_server(const form_data& f, const std::string& p,
                 server_settings& out, account_form& a,
                 const host_policy& hosts, bool check) {
  out.host = trim(f.get(p + "_host"));
  auto port = parse_port(trim(f.get(p + "_port")));
  out.port = port ? *port : 0;
  auto security = parse_transport_security(f.get(p + "_security"));
  out.security = security ? *security : transport_security::tls;
  out.username = trim(f.get(p + "_username"));
  if (!check)
    return;
  auto example = p == "imap" ? "imap.example.com" : "smtp.example.com";
  if (out.host.empty())
    a.error(p + "_host",
            std::string{"Enter the server's name, e.g. "} + example + ".");
  else if (!is_valid_host(out.host))
    a.error(p + "_host", "This is not a server name or IP address.");
  else if (auto err = hosts.check_host(out.host))
    a.error(p + "_host", sentence(describe(err)));
  if (!port)
    a.error(p + "_port", "Enter a port between 1 and 65535.");
  if (!security)
    a.error(p + "_security", "Choose TLS, STARTTLS or none.");
  else if (*security == transport_security::plain && !out.host.empty()
           && !is_loopback_host(out.host))
    a.error(p + "_security", "Without encryption only this machine "
                             "(localhost) may be used. Choose TLS or "
                             "STARTTLS.");
  if (out.username.empty() && p == "imap")
    a.error(p + "_username", "Enter the login name (usually your email "
                             "address).");
  else if (out.username.size() > 320)
    a.error(p + "_username", "Use at most 320 characters.");
}

/// Maps a DIRECTORY validation sentence to the field it is about.
void place_error(account_form& a, const caf::error& err) {
  auto text = describe(err);
  auto said = sentence(text);
  if (starts_with(text, "IMAP server"))
    a.error("imap_host", said);
  else if (starts_with(text, "SMTP server"))
    a.error("smtp_host", said);
  else if (starts_with(text, "the label"))
    a.error("label", said);
  else if (starts_with(text, "enter the IMAP password"))
    a.error("imap_password", said);
  else if (starts_with(text, "enter the SMTP password"))
    a.error("smtp_password", said);
  else if (starts_with(text, "passwords"))
    a.error("imap_password", said);
  else {
    a.form_error = said;
    a.has_errors = true;
  }
}

account_form read_account_form(const form_data& f, const site& s,
                               const user_id& owner,
                               const account_settings* stored) {
  account_form a;
  auto& st = a.settings;
  if (stored) {
    st.id = stored->id;
    // Operator-set; never part of the form.
    st.ca_file = stored->ca_file;
  }
  st.owner = owner;
  st.label = trim(f.get("label"));
  if (st.label.empty())
    a.error("label", "Enter a name for this account.");
  else if (st.label.size() > 100)
    a.error("label", "Use at most 100 characters.");
  read_server(f, "imap", st.imap, a, s.hosts, true);
  st.has_smtp = f.get("has_smtp") == "1";
  read_server(f, "smtp", st.smtp, a, s.hosts, st.has_smtp);
  if (st.has_smtp && st.smtp.username.empty())
    st.smtp.username = st.imap.username;
  st.smtp_own_password = st.has_smtp && f.get("smtp_own_password") == "1";
  a.creds.imap_password = secret{f.get("imap_password")};
  if (st.smtp_own_password)
    a.creds.smtp_password = secret{f.get("smtp_password")};
  a.typed_password = !a.creds.imap_password.empty()
                     || !a.creds.smtp_password.empty();
  if (!stored && a.creds.imap_password.empty())
    a.error("imap_password", "Enter the password.");
  if (st.smtp_own_password && a.creds.smtp_password.empty()
      && (!stored || !stored->smtp_own_password))
    a.error("smtp_password", "Enter the SMTP password, or untick “SMTP has "
                             "its own password”.");
  if (stored) {
    // A saved password only ever goes to the server it was typed for: who
    // changes the server or login name types it again (else a stolen
    // session could send it anywhere with "Test connection").
    if (a.creds.imap_password.empty()
        && (st.imap.host != stored->imap.host
            || st.imap.username != stored->imap.username))
      a.error("imap_password", "Enter the password again: the server or "
                               "login name changed.");
    auto smtp_moved = st.has_smtp
                      && (!stored->has_smtp || st.smtp.host != stored->smtp.host
                          || st.smtp.username != stored->smtp.username);
    if (smtp_moved && st.smtp_own_password && a.creds.smtp_password.empty())
      a.error("smtp_password", "Enter the SMTP password again: the server or "
                               "login name changed.");
    if (smtp_moved && !st.smtp_own_password && a.creds.imap_password.empty())
      a.error("imap_password", "Enter the password again: the SMTP server "
                               "or login name changed.");
  }
  a.test = f.get("action") == "test";
  a.save_anyway = f.get("save_anyway") == "1";
  if (!a.has_errors) {
    if (auto err = validate_account(st, a.creds, stored == nullptr, s.hosts))
      place_error(a, err);
  }
  if (!st.has_smtp) {
    // Kept for re-showing the form, not stored.
    st.smtp_own_password = false;
  }
  return a;
}

ui::value form_view(const account_settings& st) {
  auto f = ui::value::object();
  f.set("label", st.label);
  auto server = [&f](const std::string& p, const server_settings& s) {
    f.set(p + "_host", s.host);
    f.set(p + "_port", s.port == 0 ? std::string{} : std::to_string(s.port));
    f.set(p + "_username", s.username);
    f.set(p + "_" + std::string{to_string(s.security)}, true);
  };
  server("imap", st.imap);
  server("smtp", st.smtp);
  f.set("has_smtp", st.has_smtp);
  f.set("smtp_own_password", st.smtp_own_password);
  return f;
}

ui::value report_view(const probe_report& r) {
  auto v = ui::value::object();
  v.set("imap_ok", r.imap_ok);
  v.set("imap_message", r.imap_message);
  v.set("smtp_tested", r.smtp_tested);
  v.set("smtp_ok", r.smtp_ok);
  v.set("smtp_message", r.smtp_message);
  return v;
}

bool report_ok(const probe_report& r) {
  return r.imap_ok && (!r.smtp_tested || r.smtp_ok);
}

struct form_page_options {
  bhttp::status status = bhttp::status::ok;
  const probe_report* report = nullptr;
  bool offer_save_anyway = false;
  bool passwords_cleared = false;
};

response_type account_form_page(const web_session& ws,
                                const account_settings& st,
                                const account_settings* stored,
                                const ui::value& errors,
                                const std::string& form_error,
                                const form_page_options& o) {
  page p;
  p.session = &ws;
  p.nav = "dashboard";
  p.body = "account_form";
  p.status = o.status;
  if (stored) {
    p.title = "Edit " + stored->label;
    p.data.set("heading", "Edit “" + stored->label + "”");
    p.data.set("crumb", stored->label);
    p.data.set("is_edit", true);
    p.data.set("action_url", "/accounts/" + stored->id.value + "/edit");
  } else {
    p.title = "Add an email account";
    p.data.set("heading", "Add an email account");
    p.data.set("crumb", "Add account");
    p.data.set("action_url", "/accounts/add");
  }
  p.data.set("f", form_view(st));
  p.data.set("errors", errors);
  p.data.set("form_error", form_error);
  if (o.report)
    p.data.set("report", report_view(*o.report));
  p.data.set("offer_save_anyway", o.offer_save_anyway);
  p.data.set("passwords_cleared", o.passwords_cleared);
  return render_page(p);
}

/// The connection test's answer for the page's script.
response_type report_json(bhttp::status status, const probe_report* r,
                          const account_form& a) {
  std::string body = "{\"ok\":";
  body += r && report_ok(*r) ? "true" : "false";
  if (r) {
    body += ",\"imap\":{\"ok\":" + std::string{r->imap_ok ? "true" : "false"}
            + ",\"message\":" + json_quote(r->imap_message) + "}";
    body += ",\"smtp\":{\"tested\":"
            + std::string{r->smtp_tested ? "true" : "false"}
            + ",\"ok\":" + std::string{r->smtp_ok ? "true" : "false"}
            + ",\"message\":" + json_quote(r->smtp_message) + "}";
  }
  body += ",\"errors\":{";
  bool first = true;
  for (auto field : {"label", "imap_host", "imap_port", "imap_security",
                     "imap_username", "imap_password", "smtp_host",
                     "smtp_port", "smtp_security", "smtp_username",
                     "smtp_password"}) {
    if (auto* e = a.errors.find(field)) {
      body += (first ? "" : ",") + json_quote(field) + ":" + json_quote(e->text());
      first = false;
    }
  }
  body += "},\"form_error\":" + json_quote(a.form_error) + "}";
  return json_response(status, std::move(body));
}

/// Logs into IMAP (and SMTP) with the settings. On an edit, a password left
/// empty is taken from the VAULT, and goes straight to the MAIL ROUTER: it
/// is never part of any response.
void run_probe(task self, site_ptr s, const account_settings& settings,
               const account_credentials& creds, bool stored,
               std::function<void(const probe_report&)> done,
               std::function<void(const caf::error&)> fail) {
  auto go = [self, s, settings, done, fail](const account_credentials& c) {
    self->request(s->actors.mail, probe_timeout, atom::probe_v, settings, c)
      .then([done](const probe_report& r) { done(r); },
            [fail](const caf::error& err) { fail(err); });
  };
  bool need_stored = stored
                     && (creds.imap_password.empty()
                         || (settings.smtp_own_password
                             && creds.smtp_password.empty()));
  if (!need_stored) {
    go(creds);
    return;
  }
  self
    ->request(s->actors.vault, page_timeout, atom::get_v, settings.owner,
              settings.id)
    .then(
      [settings, creds, go](const account_credentials& current) {
        account_credentials merged;
        merged.imap_password = creds.imap_password.empty()
                                 ? current.imap_password
                                 : creds.imap_password;
        if (settings.smtp_own_password)
          merged.smtp_password = creds.smtp_password.empty()
                                   ? current.smtp_password
                                   : creds.smtp_password;
        go(merged);
      },
      [fail](const caf::error& err) { fail(err); });
}

/// POST of the add or edit form (`stored` is the account being edited).
void account_post(site_ptr s, task self, const web_session& ws,
                  const form_data& form, const responder& respond, bool json,
                  std::optional<account_settings> stored) {
  auto a = read_account_form(form, *s, ws.user.id, stored ? &*stored : nullptr);
  auto show = [ws, stored, respond, json](const account_form& af,
                                          form_page_options o) {
    if (json) {
      respond(report_json(o.status, o.report, af));
      return;
    }
    o.passwords_cleared = af.typed_password;
    respond(account_form_page(ws, af.settings, stored ? &*stored : nullptr,
                              af.errors, af.form_error, o));
  };
  if (a.has_errors) {
    if (a.form_error.empty() && !json)
      a.form_error = a.test ? "Not tested yet: check the fields marked below."
                            : "Nothing was saved: check the fields marked "
                              "below.";
    show(a, {bhttp::status::bad_request, nullptr, false, false});
    return;
  }
  auto fail = [respond, ws, json](const caf::error& err) {
    if (json)
      respond(error_response(err));
    else
      respond(error_page(err, &ws));
  };
  // A test refused for its limits (one at a time, hourly allowance, no
  // free connection) stays on the form with the sentence.
  auto probe_failed = [a, show, fail](const caf::error& err) mutable {
    if (err == ec::too_busy) {
      a.form_error = describe(err);
      show(a, {bhttp::status::too_many_requests, nullptr, false, false});
      return;
    }
    fail(err);
  };
  if (a.test) {
    run_probe(self, s, a.settings, a.creds, stored.has_value(),
              [a, show](const probe_report& r) {
                show(a, {bhttp::status::ok, &r, false, false});
              },
              probe_failed);
    return;
  }
  auto save = [self, s, ws, a, stored, respond, show, fail] {
    auto settings = a.settings;
    if (!settings.has_smtp)
      settings.smtp = server_settings{};
    auto saved = [s, ws, respond, is_new = !stored](const account_settings& acc) {
      if (!is_new)
        caf::anon_send(s->actors.mail, atom::forget_v,
                       mailbox_ref{ws.user.id, acc.id});
      respond(see_other(is_new ? "/dashboard?notice=added"
                               : "/dashboard?notice=updated"));
    };
    auto refused = [a, show, fail](const caf::error& err) mutable {
      if (err == ec::invalid_argument || err == ec::forbidden) {
        place_error(a, err);
        show(a, {bhttp::status::bad_request, nullptr, false, false});
        return;
      }
      fail(err);
    };
    if (stored)
      self->request(s->actors.directory, page_timeout, atom::upd_acct_v,
                    settings, a.creds)
        .then([saved](const account_settings& acc) { saved(acc); }, refused);
    else
      self->request(s->actors.directory, page_timeout, atom::add_acct_v,
                    settings, a.creds)
        .then([saved](const account_settings& acc) { saved(acc); }, refused);
  };
  if (a.save_anyway) {
    save();
    return;
  }
  run_probe(self, s, a.settings, a.creds, stored.has_value(),
            [a, save, show](const probe_report& r) mutable {
              if (report_ok(r)) {
                save();
                return;
              }
              a.form_error = "The connection test failed, so nothing was "
                             "saved. Correct the settings, or tick “Save even "
                             "though the test failed”.";
              show(a, {bhttp::status::unprocessable_entity, &r, true, false});
            },
            probe_failed);
}

void get_add_account(site_ptr s, const request& req, const responder& respond) {
  with_session(s, req, respond, [respond](task, const web_session& ws) {
    account_settings defaults;
    defaults.imap.port = 993;
    defaults.imap.security = transport_security::tls;
    defaults.has_smtp = true;
    defaults.smtp.port = 465;
    defaults.smtp.security = transport_security::tls;
    respond(account_form_page(ws, defaults, nullptr, ui::value::object(), {},
                              {}));
  });
}

void post_add_account(site_ptr s, const request& req,
                      const responder& respond) {
  auto json = wants_json(req);
  with_session_form(s, req, respond,
                    [s, respond, json](task self, const web_session& ws,
                                       const form_data& form) {
                      account_post(s, self, ws, form, respond, json,
                                   std::nullopt);
                    });
}

bool valid_id(std::string_view id) {
  if (id.empty() || id.size() > 64)
    return false;
  for (char c : id)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
          || (c >= '0' && c <= '9') || c == '-' || c == '_'))
      return false;
  return true;
}

/// Splits "/<prefix>/<id>/<verb>" into id and verb; nullopt if malformed.
std::optional<std::pair<std::string, std::string>>
split_id_path(std::string_view path, std::string_view prefix) {
  if (!starts_with(path, prefix))
    return std::nullopt;
  auto rest = path.substr(prefix.size());
  auto slash = rest.find('/');
  if (slash == std::string_view::npos)
    return std::nullopt;
  auto id = rest.substr(0, slash);
  auto what = rest.substr(slash + 1);
  if (!valid_id(id) || what.empty() || what.find('/') != std::string_view::npos)
    return std::nullopt;
  return std::make_pair(std::string{id}, std::string{what});
}

response_type delete_page(const web_session& ws, const account_settings& acc,
                          size_t agents) {
  page p;
  p.title = "Delete " + acc.label;
  p.body = "account_delete";
  p.session = &ws;
  p.nav = "dashboard";
  p.data.set("id", acc.id.value);
  p.data.set("label", acc.label);
  p.data.set("imap_username", acc.imap.username);
  if (agents > 0)
    p.data.set("agents", count_words(agents, "agent connection",
                                     "agent connections"));
  return render_page(p);
}

void account_get(site_ptr s, const request& req, const responder& respond) {
  auto parts = split_id_path(req.path(), "/accounts/");
  if (!parts || (parts->second != "edit" && parts->second != "delete")) {
    respond(not_found_page(nullptr));
    return;
  }
  with_session(s, req, respond, [s, respond, id = parts->first,
                                 what = parts->second](task self,
                                                       const web_session& ws) {
    self
      ->request(s->actors.directory, page_timeout, atom::get_v, ws.user.id,
                account_id{id})
      .then(
        [self, s, ws, respond, what](const account_settings& acc) {
          if (what == "edit") {
            respond(account_form_page(ws, acc, &acc, ui::value::object(), {},
                                      {}));
            return;
          }
          self->request(s->actors.tokens, page_timeout, atom::list_v, ws.user.id)
            .then(
              [ws, acc, respond](const std::vector<grant_info>& grants) {
                auto n = static_cast<size_t>(std::count_if(
                  grants.begin(), grants.end(),
                  [&](const grant_info& g) { return g.account == acc.id; }));
                respond(delete_page(ws, acc, n));
              },
              [ws, acc, respond](const caf::error&) {
                respond(delete_page(ws, acc, 0));
              });
        },
        fail_page(respond, ws));
  });
}

void account_post_route(site_ptr s, const request& req,
                        const responder& respond) {
  auto parts = split_id_path(req.path(), "/accounts/");
  if (!parts || (parts->second != "edit" && parts->second != "delete")) {
    respond(not_found_page(nullptr));
    return;
  }
  auto json = wants_json(req);
  with_session_form(s, req, respond, [s, respond, json, id = parts->first,
                                      what = parts->second](
                                       task self, const web_session& ws,
                                       const form_data& form) {
    auto account = account_id{id};
    if (what == "delete") {
      self
        ->request(s->actors.directory, page_timeout, atom::del_acct_v,
                  ws.user.id, account)
        .then(
          [s, ws, account, respond](atom::ok) {
            caf::anon_send(s->actors.mail, atom::forget_v,
                           mailbox_ref{ws.user.id, account});
            respond(see_other("/dashboard?notice=deleted"));
          },
          fail_page(respond, ws));
      return;
    }
    self
      ->request(s->actors.directory, page_timeout, atom::get_v, ws.user.id,
                account)
      .then(
        [self, s, ws, form, respond, json](const account_settings& stored) {
          account_post(s, self, ws, form, respond, json, stored);
        },
        [ws, respond, json](const caf::error& err) {
          if (json && err == ec::no_such_account)
            respond(json_error(bhttp::status::not_found, "not_found",
                               "No such email account."));
          else
            respond(error_page(err, &ws));
        });
  });
}

// -- agent connections --------------------------------------------------------

void post_revoke(site_ptr s, const request& req, const responder& respond) {
  auto parts = split_id_path(req.path(), "/tokens/");
  if (!parts || parts->second != "revoke") {
    respond(not_found_page(nullptr));
    return;
  }
  auto address = req.client_address;
  with_session_form(s, req, respond, [s, respond, address, id = parts->first](
                                       task self, const web_session& ws,
                                       const form_data&) {
    // Look the grant up first: only one's own grants exist here, and the
    // audit entry names the agent rather than an opaque id.
    self->request(s->actors.tokens, page_timeout, atom::list_v, ws.user.id)
      .then(
        [self, s, ws, respond, address,
         id](const std::vector<grant_info>& grants) {
          auto g = std::find_if(grants.begin(), grants.end(),
                                [&](const grant_info& x) {
                                  return x.id.value == id;
                                });
          if (g == grants.end()) {
            respond(not_found_page(&ws, "This agent connection does not "
                                        "exist, or it was already revoked."));
            return;
          }
          auto grant = *g;
          self
            ->request(s->actors.tokens, page_timeout, atom::revoke_v,
                      ws.user.id, grant.id)
            .then(
              [s, ws, respond, address, grant](atom::ok) {
                caf::anon_send(
                  s->actors.directory, atom::audit_v,
                  audit_event{0, ws.user.id, "web", "grant.revoke",
                              "account " + grant.account.value + ", client "
                                + grant.actor(),
                              "ok", address});
                respond(see_other("/dashboard?notice=revoked"));
              },
              fail_page(respond, ws));
        },
        fail_page(respond, ws));
  });
}

// -- activity -----------------------------------------------------------------

response_type activity_page(const web_session& ws,
                            const std::vector<audit_event>& events,
                            const std::map<std::string, std::string>& labels,
                            const client_names& names) {
  page p;
  p.title = "Activity";
  p.body = "activity";
  p.session = &ws;
  p.nav = "activity";
  auto list = ui::value::list();
  // "account <id>" targets read better as the label, client ids as names.
  for (auto& e : events)
    list.push(event_view(e, labels, names));
  p.data.set("has_events", !events.empty());
  p.data.set("events", std::move(list));
  p.data.set("more", events.size() >= activity_events);
  p.data.set("shown", std::to_string(events.size()));
  return render_page(p);
}

void get_activity(site_ptr s, const request& req, const responder& respond) {
  with_session(s, req, respond, [s, respond](task self, const web_session& ws) {
    self
      ->request(s->actors.directory, page_timeout, atom::audit_log_v,
                ws.user.id, activity_events)
      .then(
        [self, s, ws, respond](std::vector<audit_event>& events) {
          self
            ->request(s->actors.directory, page_timeout, atom::list_v,
                      ws.user.id)
            .then(
              [self, s, ws, respond,
               events](const std::vector<account_settings>& accs) {
                auto show = [ws, respond, events, labels = label_map(accs)](
                              const client_names& names) {
                  respond(activity_page(ws, events, labels, names));
                };
                with_client_names(self, *s, events, std::move(show));
              },
              fail_page(respond, ws));
        },
        fail_page(respond, ws));
  });
}

// -- password -----------------------------------------------------------------

response_type password_page(const web_session& ws, bhttp::status status,
                            ui::value errors, std::string form_error,
                            std::vector<std::pair<std::string, std::string>>
                              headers = {}) {
  page p;
  p.title = "Change password";
  p.body = "password";
  p.session = &ws;
  p.nav = "password";
  p.status = status;
  p.headers = std::move(headers);
  p.data.set("username", ws.user.username);
  p.data.set("errors", std::move(errors));
  p.data.set("form_error", std::move(form_error));
  return render_page(p);
}

void get_password(site_ptr s, const request& req, const responder& respond) {
  with_session(s, req, respond, [respond](task, const web_session& ws) {
    respond(password_page(ws, bhttp::status::ok, ui::value::object(), {}));
  });
}

void post_password(site_ptr s, const request& req, const responder& respond) {
  auto address = req.client_address;
  with_session_form(s, req, respond, [s, respond, address](
                                       task self, const web_session& ws,
                                       const form_data& form) {
    secret current{form.get("current")};
    secret fresh{form.get("new_password")};
    auto errors = ui::value::object();
    bool bad = false;
    if (current.empty()) {
      errors.set("current", "Enter your current password.");
      bad = true;
    }
    if (auto err = validate_password(ws.user.username, fresh)) {
      errors.set("new_password", sentence(describe(err)));
      bad = true;
    } else if (form.get("confirm") != fresh.reveal()) {
      errors.set("confirm", "The two new passwords differ.");
      bad = true;
    }
    if (bad) {
      respond(password_page(ws, bhttp::status::bad_request, errors, {}));
      return;
    }
    // Guessing the current password is guessing a login.
    if (auto wait = s->throttle->begin(address, ws.user.username); wait > 0) {
      auto page = password_page(ws, bhttp::status::too_many_requests, errors,
                                throttled_text(wait),
                                {{"Retry-After", std::to_string(wait)}});
      hold_response(page, refusal_hold(wait));
      respond(std::move(page));
      return;
    }
    self
      ->request(s->actors.directory, page_timeout, atom::passwd_v, ws.user.id,
                current, fresh)
      .then(
        [s, ws, address, respond](const session_grant& grant) {
          s->throttle->finish(address, ws.user.username, true);
          respond(see_other("/dashboard?notice=password-changed",
                            {session_cookie_header(*s, grant)}));
        },
        [s, ws, address, respond](const caf::error& err) {
          s->throttle->finish(address, ws.user.username, false);
          if (err == ec::invalid_credentials) {
            caf::anon_send(s->actors.directory, atom::audit_v,
                           audit_event{0, ws.user.id, "web", "password.change",
                                       "", "wrong current password", address});
            auto errs = ui::value::object();
            errs.set("current", "The current password is wrong.");
            respond(password_page(ws, bhttp::status::bad_request, errs, {}));
            return;
          }
          if (err == ec::invalid_argument) {
            auto errs = ui::value::object();
            errs.set("new_password", sentence(describe(err)));
            respond(password_page(ws, bhttp::status::bad_request, errs, {}));
            return;
          }
          respond(error_page(err, &ws));
        });
  });
}

} // namespace

void add_dashboard_routes(router& r, const config& cfg, endpoints eps) {
  auto s = make_site(cfg, eps);
  auto bind = [s](void (*fn)(site_ptr, const request&, const responder&)) {
    return [s, fn](const request& req, const responder& respond) {
      fn(s, req, respond);
    };
  };
  r.add(verb::get, "/", [](const request&, const responder& respond) {
    respond(see_other("/dashboard"));
  });
  r.add(verb::get, "/login", bind(get_login));
  r.add(verb::post, "/login", bind(post_login));
  r.add(verb::get, "/signup", bind(get_signup));
  r.add(verb::post, "/signup", bind(post_signup));
  r.add(verb::get, "/logout", bind(get_logout));
  r.add(verb::post, "/logout", bind(post_logout));
  r.add(verb::get, "/dashboard", bind(get_dashboard));
  r.add(verb::get, "/accounts/add", bind(get_add_account));
  r.add(verb::post, "/accounts/add", bind(post_add_account));
  r.add_prefix(verb::get, "/accounts/", bind(account_get));
  r.add_prefix(verb::post, "/accounts/", bind(account_post_route));
  r.add_prefix(verb::post, "/tokens/", bind(post_revoke));
  r.add(verb::get, "/activity", bind(get_activity));
  r.add(verb::get, "/change-password", bind(get_password));
  r.add(verb::post, "/change-password", bind(post_password));
}

} // namespace postern::http
