// SPDX-License-Identifier: Apache-2.0
#include "postern/http/web.hpp"

#include "postern/clock.hpp"
#include "postern/error.hpp"
#include "postern/fwd.hpp"
#include "postern/http/cookies.hpp"
#include "postern/http/responses.hpp"
#include "postern/log.hpp"
#include "postern/storage/crypto.hpp"
#include "postern/version.hpp"

#include <caf/sec.hpp>

#include <ctime>

namespace postern::http::web {

namespace {

/// Where an unauthenticated request is sent: back to the page after login
/// for GET, the dashboard otherwise.
std::string login_redirect(const request& req) {
  auto method = req.raw.method();
  if (method != bhttp::verb::get && method != bhttp::verb::head)
    return "/login";
  auto target = req.raw.target();
  auto here = std::string_view{target.data(), target.size()};
  if (here == "/dashboard" || here == "/" || here.size() > 1024)
    return "/login";
  return "/login?next=" + url_encode(here);
}

std::string_view header(const request& req, bhttp::field f) {
  auto value = req.raw[f];
  return std::string_view{value.data(), value.size()};
}

} // namespace

// -- site ---------------------------------------------------------------------

std::string site::session_cookie() const {
  return secure_cookies ? "__Host-postern_session" : "postern_session";
}

std::string site::pre_session_cookie() const {
  return secure_cookies ? "__Host-postern_pre" : "postern_pre";
}

std::shared_ptr<const site> make_site(const config& cfg, const endpoints& eps) {
  auto s = std::make_shared<site>();
  s->sys = eps.sys;
  s->actors = eps.actors;
  s->base_url = cfg.base_url;
  s->secure_cookies = cfg.base_url.rfind("https://", 0) == 0
                      || cfg.tls_enabled();
  s->signup = cfg.signup;
  if (auto hosts = host_policy::parse(cfg.account_host_deny))
    s->hosts = *hosts;
  s->session_ttl_seconds = int64_t{cfg.session_ttl_hours} * 3600;
  if (cfg.session_secret && !cfg.session_secret->empty())
    s->csrf = csrf_keys{*cfg.session_secret};
  else
    POSTERN_WARN("web: no SESSION_SECRET; CSRF tokens use a random key and "
                 "forms break at every restart");
  s->throttle = std::make_shared<login_throttle>();
  login_throttle::options signups;
  signups.per_address = {30, std::chrono::seconds(1), std::chrono::minutes(5)};
  s->signup_throttle = std::make_shared<login_throttle>(signups);
  s->signins = std::make_shared<provider_signins>();
  if (cfg.mail_setup_dns != "off") {
    settings_lookup lookup;
    lookup.dns.nameserver = cfg.mail_setup_dns;
    lookup.documents = eps.documents;
    lookup.autoconfig_port = cfg.test_autoconfig_port;
    s->account_lookup = std::move(lookup);
  }
  return s;
}

std::chrono::milliseconds settings_lookup::budget() const {
  // Four SRV queries, then per document one address query and the fetch.
  auto query = std::chrono::duration_cast<std::chrono::milliseconds>(dns.timeout);
  return 4 * query + 2 * (query + fetch_timeout) + std::chrono::seconds(2);
}

std::string csp_with_form_targets(const std::vector<std::string>& origins) {
  std::string csp{page_csp};
  constexpr std::string_view self_only = "form-action 'self'";
  auto at = csp.find(self_only);
  if (at == std::string::npos)
    return csp;
  std::string extra;
  for (auto& o : origins)
    if (!o.empty() && extra.find(" " + o) == std::string::npos)
      extra += " " + o;
  csp.insert(at + self_only.size(), extra);
  return csp;
}

// -- sessions -----------------------------------------------------------------

void run_task(const site& s, std::function<void(task)> fn) {
  s.sys->spawn([fn](caf::event_based_actor* self) { fn(self); });
}

void with_session(std::shared_ptr<const site> s, const request& req,
                  const responder& respond,
                  std::function<void(task, const web_session&)> then) {
  auto login = login_redirect(req);
  auto cookie = find_cookie(req, s->session_cookie());
  if (!cookie || cookie->empty() || cookie->size() > 128) {
    respond(see_other(login));
    return;
  }
  run_task(*s, [s, token = *cookie, respond, login, then](task self) {
    self->request(s->actors.directory, page_timeout, atom::session_v, token)
      .then(
        [self, s, token, then](const user_info& user) {
          web_session ws{user, token, s->csrf.token(session_binding(token))};
          then(self, ws);
        },
        [s, respond, login](const caf::error& err) {
          if (err == ec::no_such_session)
            respond(see_other(
              login, {delete_cookie(s->session_cookie(), s->secure_cookies)}));
          else
            respond(error_page(err));
        });
  });
}

void with_session_form(
  std::shared_ptr<const site> s, const request& req, const responder& respond,
  std::function<void(task, const web_session&, const form_data&)> then) {
  if (!same_origin(req)) {
    respond(csrf_failed());
    return;
  }
  auto form = form_data::parse(req.raw.body());
  with_session(s, req, respond,
               [s, form, respond, then](task self, const web_session& ws) {
                 if (!s->csrf.check(session_binding(ws.token),
                                    form.get("csrf"))) {
                   respond(csrf_failed(&ws));
                   return;
                 }
                 then(self, ws, form);
               });
}

std::string session_cookie_header(const site& s, const session_grant& grant) {
  cookie_attributes attrs;
  attrs.secure = s.secure_cookies;
  attrs.max_age = std::max<int64_t>(0, grant.expires_at > 0
                                         ? grant.expires_at - unix_seconds()
                                         : s.session_ttl_seconds);
  return set_cookie(s.session_cookie(), grant.token, attrs);
}

std::string pre_session(const site& s, const request& req,
                        std::string& set_cookie_value) {
  auto existing = find_cookie(req, s.pre_session_cookie());
  if (existing && existing->size() >= 32 && existing->size() <= 64)
    return *existing;
  auto fresh = storage::random_token(32);
  cookie_attributes attrs;
  attrs.secure = s.secure_cookies;
  // A browser session: the forms it protects are filled in right away.
  set_cookie_value = set_cookie(s.pre_session_cookie(), fresh, attrs);
  return fresh;
}

std::optional<form_data> check_pre_session_form(const site& s,
                                                const request& req) {
  if (!same_origin(req))
    return std::nullopt;
  auto cookie = find_cookie(req, s.pre_session_cookie());
  if (!cookie || cookie->size() < 32 || cookie->size() > 64)
    return std::nullopt;
  auto form = form_data::parse(req.raw.body());
  if (!s.csrf.check(pre_session_binding(*cookie), form.get("csrf")))
    return std::nullopt;
  return form;
}

bool same_origin(const request& req) {
  // Fetch metadata (every current browser): the browser itself says where
  // the request came from.
  auto fetch_site = req.raw["Sec-Fetch-Site"];
  if (!fetch_site.empty())
    return fetch_site == "same-origin" || fetch_site == "none";
  auto origin = header(req, bhttp::field::origin);
  if (origin.empty())
    return true; // not a browser, or an old one: the CSRF token decides
  auto host = header(req, bhttp::field::host);
  auto scheme_end = origin.find("://");
  if (scheme_end == std::string_view::npos || host.empty())
    return false; // includes "null" (sandboxed frames, data: URLs)
  return origin.substr(scheme_end + 3) == host;
}

std::string safe_next(std::string_view next, std::string_view fallback) {
  if (next.empty() || next.size() > 2048 || next.front() != '/')
    return std::string{fallback};
  if (next.size() > 1 && (next[1] == '/' || next[1] == '\\'))
    return std::string{fallback};
  for (char c : next)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F || c == '\\')
      return std::string{fallback};
  return std::string{next};
}

// -- pages --------------------------------------------------------------------

response_type render_page(const page& p) {
  auto data = p.data;
  if (p.session && !data.find("csrf"))
    data.set("csrf", p.session->csrf);
  auto [body, body_err] = ui::render_asset(p.body, data);
  auto layout = ui::value::object();
  layout.set("title", p.title);
  layout.set("narrow", p.narrow);
  layout.set("version", std::string{version});
  if (p.session) {
    auto who = ui::value::object();
    who.set("username", p.session->user.username);
    who.set("csrf", p.session->csrf);
    layout.set("session", std::move(who));
    if (!p.nav.empty())
      layout.set("nav_" + p.nav, true);
  }
  if (!p.notice.empty()) {
    layout.set("notice", p.notice);
    layout.set("notice_" + p.notice_kind, true);
  }
  layout.set("content", ui::value::html(std::move(body)));
  auto [html, layout_err] = ui::render_asset("layout", layout);
  response_type response{p.status, 11};
  if (body_err || layout_err) {
    POSTERN_ERROR("web: cannot render page \"{}\": {}", p.body,
                  body_err ? body_err->message : layout_err->message);
    response.result(bhttp::status::internal_server_error);
    html = "<!doctype html><title>Error</title><p>This page could not be "
           "shown. The error was logged.</p>";
  }
  response.set(bhttp::field::content_type, "text/html; charset=utf-8");
  response.set("Content-Security-Policy", p.csp);
  // Our own form posts must carry their Origin (no-referrer would make it
  // "null"); other sites learn nothing.
  response.set("Referrer-Policy", "same-origin");
  for (auto& c : p.cookies)
    response.insert(bhttp::field::set_cookie, c);
  for (auto& [name, value] : p.headers)
    response.set(name, value);
  response.body() = std::move(html);
  response.prepare_payload();
  return response;
}

response_type see_other(std::string_view location,
                        std::vector<std::string> cookies) {
  response_type response{bhttp::status::see_other, 11};
  response.set(bhttp::field::location, location);
  for (auto& c : cookies)
    response.insert(bhttp::field::set_cookie, c);
  response.prepare_payload();
  return response;
}

response_type message_page(bhttp::status status, std::string title,
                           std::string message, const web_session* session,
                           std::string link, std::string link_text) {
  page p;
  p.title = std::move(title);
  p.body = "message";
  p.status = status;
  p.session = session;
  p.narrow = session == nullptr;
  p.data.set("heading", p.title);
  p.data.set("message", std::move(message));
  p.data.set("link", session || link != "/dashboard" ? link : "/login");
  p.data.set("link_text",
             session || link != "/dashboard" ? link_text : "Log in");
  return render_page(p);
}

response_type csrf_failed(const web_session* session) {
  return message_page(
    bhttp::status::forbidden, "This form has expired",
    "The form was not accepted: it is out of date, or it was sent from "
    "another site. Go back, reload the page and try again. (Postern needs "
    "cookies to be enabled.)",
    session, session ? "/dashboard" : "/login",
    session ? "Back to the dashboard" : "Log in");
}

response_type not_found_page(const web_session* session, std::string what) {
  return message_page(bhttp::status::not_found, "Not found", std::move(what),
                      session);
}

std::string sentence(std::string text) {
  if (text.empty())
    return text;
  if (text.front() >= 'a' && text.front() <= 'z')
    text.front() = static_cast<char>(text.front() - 'a' + 'A');
  if (text.back() != '.' && text.back() != '?' && text.back() != '!')
    text += '.';
  return text;
}

response_type error_page(const caf::error& err, const web_session* session) {
  auto status = to_status(err);
  if (err == ec::no_such_account)
    return not_found_page(session,
                          "This email account does not exist, or it is not "
                          "yours.");
  if (status == bhttp::status::service_unavailable) {
    if (err == caf::sec::request_timeout)
      return message_page(status, "Postern is busy",
                          "The server took too long to answer. Try again in "
                          "a moment.",
                          session);
    return message_page(status, "Postern is restarting",
                        "The server is shutting down. Try again shortly.",
                        session);
  }
  if (is_server_fault(err)) {
    POSTERN_ERROR("web: request failed: {}", render(err));
    return message_page(status, "Something went wrong",
                        "The server could not complete this request. The "
                        "error was logged.",
                        session);
  }
  if (status == bhttp::status::not_found)
    return not_found_page(session, sentence(describe(err)));
  return message_page(status,
                      status == bhttp::status::forbidden ? "Not allowed"
                                                         : "That did not work",
                      sentence(describe(err)), session);
}

// -- formatting ---------------------------------------------------------------

std::string format_time(int64_t seconds) {
  if (seconds <= 0)
    return "—";
  auto t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  auto n = std::strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M UTC", &tm);
  return std::string{buf, n};
}

std::string iso_time(int64_t seconds) {
  return iso8601_utc(seconds);
}

} // namespace postern::http::web
