// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "postern/actors/node.hpp"
#include "postern/config.hpp"
#include "postern/directory_types.hpp"
#include "postern/host_policy.hpp"
#include "postern/http/csrf.hpp"
#include "postern/http/form.hpp"
#include "postern/http/login_throttle.hpp"
#include "postern/http/message.hpp"
#include "postern/http/provider_signins.hpp"
#include "postern/http/routes.hpp"
#include "postern/setup/autoconfig.hpp"
#include "postern/ui/template.hpp"

#include <caf/actor_system.hpp>
#include <caf/error.hpp>
#include <caf/event_based_actor.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

/// The building blocks of Postern's HTML pages, shared by the dashboard and
/// the OAuth login and consent pages: one layout, the session cookie, CSRF
/// tokens, form parsing and the answers a browser needs (pages, redirects,
/// error pages).
namespace postern::http::web {

/// The Content-Security-Policy of every HTML page: no inline script or
/// style, nothing from other origins, no framing. `form-action 'self'` also
/// applies to where a form's POST redirects (Chromium enforces it), so a
/// page whose form must redirect to another origin (the OAuth consent) adds
/// that origin to form-action through `page::csp`.
inline constexpr std::string_view page_csp
  = "default-src 'self'; script-src 'self'; style-src 'self'; "
    "img-src 'self'; connect-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'; object-src 'none'";

/// page_csp with `origins` added to form-action, for a page whose form is
/// answered by a redirect to another origin (the OAuth consent to a
/// client, a sign-in at a mail provider): Chromium applies form-action to
/// that redirect too.
std::string csp_with_form_targets(const std::vector<std::string>& origins);

/// How long a page's actor requests may take before the page says so.
inline constexpr auto page_timeout = std::chrono::seconds(30);

/// What every page handler needs: the actors, the cookie policy and the
/// keys. Built once by make_site() and shared by the handlers.
/// Where the address step of "Add an email account" looks a domain up
/// (dashboard/account_lookup.cpp).
struct settings_lookup {
  /// MAIL_SETUP_DNS: the system's resolver or one name server, for SRV
  /// records and autoconfig hosts.
  setup::dns_options dns;
  /// Fetches autoconfig documents (the fetcher of client metadata
  /// documents too).
  std::shared_ptr<guarded_fetcher> documents;
  /// 443 but in tests (TEST_AUTOCONFIG_PORT).
  uint16_t autoconfig_port = 443;
  /// Per autoconfig document.
  std::chrono::milliseconds fetch_timeout = std::chrono::seconds(4);

  /// The longest a lookup may take.
  std::chrono::milliseconds budget() const;
};

struct site {
  caf::actor_system* sys = nullptr;
  components actors;
  /// BASE_URL, for messages and absolute links.
  std::string base_url;
  /// Cookies carry Secure (BASE_URL is https, or TLS is served natively).
  bool secure_cookies = false;
  signup_policy signup = signup_policy::open;
  /// ACCOUNT_HOST_DENY, to check settings before testing them.
  host_policy hosts = host_policy::deny_private();
  /// Lifetime of a login, for the cookie's Max-Age.
  int64_t session_ttl_seconds = 24 * 3600;
  csrf_keys csrf;
  /// Login attempts per address and per username (also guesses of the
  /// current password on the password page).
  std::shared_ptr<login_throttle> throttle;
  /// Sign-ups per address (each costs a password hash).
  std::shared_ptr<login_throttle> signup_throttle;
  /// Sign-ins at mail providers waiting for their callback.
  std::shared_ptr<provider_signins> signins;
  /// How the address step looks a new account's domain up; nullopt with
  /// MAIL_SETUP_DNS=off.
  std::optional<settings_lookup> account_lookup;

  /// "postern_session", or "__Host-postern_session" when cookies are
  /// Secure (the prefix forbids Domain= and non-secure overwrites).
  std::string session_cookie() const;

  /// The pre-session cookie that binds the CSRF tokens of the login and
  /// sign-up forms.
  std::string pre_session_cookie() const;
};

/// Builds the site from the configuration (SESSION_SECRET must be set, as
/// run_server does through ensure_keys; without it a random key is used).
std::shared_ptr<const site> make_site(const config& cfg, const endpoints& eps);

// -- sessions -----------------------------------------------------------------

/// A logged-in person, as a page handler sees them.
struct web_session {
  user_info user;
  /// The session cookie's value (never rendered).
  std::string token;
  /// The CSRF token for this session's forms.
  std::string csrf;
};

/// A short-lived actor running one request's conversation with the actors;
/// it ends once its last request has been answered.
using task = caf::event_based_actor*;

/// Runs `fn(self)` on a new short-lived actor.
void run_task(const site& s, std::function<void(task)> fn);

/// For pages of logged-in people: resolves the session cookie with the
/// DIRECTORY and calls `then(self, session)` on a short-lived actor. Without
/// a valid session answers a redirect to /login (remembering the page for
/// GET requests).
void with_session(std::shared_ptr<const site> s, const request& req,
                  const responder& respond,
                  std::function<void(task, const web_session&)> then);

/// For forms of logged-in people: as with_session, then checks the
/// request's Origin and the form's CSRF token (403 page if either is wrong)
/// before calling `then(self, session, form)`.
void with_session_form(
  std::shared_ptr<const site> s, const request& req, const responder& respond,
  std::function<void(task, const web_session&, const form_data&)> then);

/// The session cookie for a new login.
std::string session_cookie_header(const site& s, const session_grant& grant);

/// The pre-session cookie value of a request, or a new one; `set_cookie` is
/// filled when a new one must be sent.
std::string pre_session(const site& s, const request& req,
                        std::string& set_cookie);

/// Checks a form posted before login: Origin, pre-session cookie and CSRF
/// token. nullopt means "answer csrf_failed()".
std::optional<form_data> check_pre_session_form(const site& s,
                                                const request& req);

/// False for a request another site made the browser send: by
/// Sec-Fetch-Site when the browser sends it, else by an Origin header that
/// names another origin than the Host (or "null").
bool same_origin(const request& req);

/// A redirect target from a `next` field: only paths on this server
/// ("/x", not "//host" or "/\host"); anything else gives `fallback`.
std::string safe_next(std::string_view next,
                      std::string_view fallback = "/dashboard");

// -- pages --------------------------------------------------------------------

/// One HTML page in the common layout.
struct page {
  /// The <title> and the heading.
  std::string title;
  /// The body template: ui/assets/templates/<name>.html.
  std::string body;
  /// The body template's data.
  ui::value data = ui::value::object();
  bhttp::status status = bhttp::status::ok;
  /// Set for a logged-in person: shows the navigation and the logout button.
  const web_session* session = nullptr;
  /// The navigation entry to highlight ("dashboard", "activity", ...).
  std::string nav;
  /// A one-line message above the content, and its kind ("ok", "error").
  std::string notice;
  std::string notice_kind = "ok";
  /// Set-Cookie values to send.
  std::vector<std::string> cookies;
  /// Extra headers (e.g. Retry-After).
  std::vector<std::pair<std::string, std::string>> headers;
  /// The page's Content-Security-Policy.
  std::string csp{page_csp};
  /// A narrow page (login, sign-up, consent) instead of the wide layout.
  bool narrow = false;
};

/// Renders a page into the layout. A template error becomes a 500 page
/// (and a log line): templates are part of the binary, so that is a bug.
response_type render_page(const page& p);

/// A 303 See Other to `location` (after a POST, or to /login).
response_type see_other(std::string_view location,
                        std::vector<std::string> cookies = {});

/// A simple page with a heading, a sentence and a link onwards.
response_type message_page(bhttp::status status, std::string title,
                           std::string message,
                           const web_session* session = nullptr,
                           std::string link = "/dashboard",
                           std::string link_text = "Back to the dashboard");

/// 403: the form's CSRF token or origin is wrong.
response_type csrf_failed(const web_session* session = nullptr);

/// 404 in the layout.
response_type not_found_page(const web_session* session,
                             std::string what = "This page does not exist.");

/// An actor error as a page, with the status of to_status(): the caller's
/// errors show their sentence, 503 says busy or restarting, 500 says
/// something went wrong (logged; the text never carries secrets).
response_type error_page(const caf::error& err,
                         const web_session* session = nullptr);

// -- formatting ---------------------------------------------------------------

/// An error's sentence as shown on a page: "the username must ..." becomes
/// "The username must ....".
std::string sentence(std::string text);

/// "2025-11-26 09:30 UTC" for Unix seconds; "—" for 0.
std::string format_time(int64_t seconds);

/// "2025-11-26T09:30:00Z" for <time datetime>.
std::string iso_time(int64_t seconds);

} // namespace postern::http::web
