// SPDX-License-Identifier: Apache-2.0
#include "postern/http/oauth.hpp"

#include "postern/account.hpp"
#include "postern/clock.hpp"
#include "postern/error.hpp"
#include "postern/grant.hpp"
#include "postern/host_policy.hpp"
#include "postern/http/client_metadata.hpp"
#include "postern/http/cookies.hpp"
#include "postern/http/form.hpp"
#include "postern/http/login_throttle.hpp"
#include "postern/http/mcp_endpoint.hpp"
#include "postern/http/mcp_sessions.hpp"
#include "postern/http/responses.hpp"
#include "postern/http/web.hpp"
#include "postern/log.hpp"
#include "postern/mcp/bounded_parse.hpp"
#include "postern/mcp/json.hpp"
#include "postern/oauth/uri.hpp"
#include "postern/storage/crypto.hpp"
#include "postern/storage/grant_store.hpp"
#include "postern/storage/oauth_store.hpp"

#include <rapidjson/document.h>

#include <algorithm>
#include <cctype>
#include <mutex>
#include <unordered_map>

namespace postern::http {

namespace {

/// A scope parameter without the OAuth scope offline_access.
std::string without_offline_access(std::string_view text) {
  std::string out;
  size_t i = 0;
  while (i < text.size()) {
    auto end = text.find_first_of(" ,\t", i);
    if (end == std::string_view::npos)
      end = text.size();
    auto name = text.substr(i, end - i);
    if (!name.empty() && name != "offline_access") {
      if (!out.empty())
        out += ' ';
      out += name;
    }
    i = end + 1;
  }
  return out;
}

using namespace web;
using verb = bhttp::verb;
using oauth::canonical_resource;
using oauth::check_redirect_uri;
using oauth::host_of;
using oauth::redirect_matches;
using oauth::redirect_origin;

// -- policy -------------------------------------------------------------------

// Code and token lifetimes are the TOKEN AUTHORITY's (oauth_lifetimes).

// Client lifetimes and their cap are the TOKEN AUTHORITY's too.

/// A consent page stays valid this long.
constexpr int64_t request_ttl = 600;
constexpr size_t max_pending = 10000;
/// Consent pages one user may have open at once (each lives request_ttl).
constexpr size_t max_pending_per_user = 20;
/// Registrations per client address (IPv6: per /64) and window, and per
/// hour: unused clients expire after an hour, so one source never holds
/// more than registrations_per_hour unused clients.
constexpr int registrations_per_window = 30;
constexpr int64_t registration_window = 600;
constexpr int registrations_per_hour = 100;
/// /oauth/token requests per minute (bursts as large).
constexpr unsigned token_requests_per_client = 60;
constexpr unsigned token_requests_per_credential = 10;

// -- small helpers ------------------------------------------------------------

/// True for the one resource of this server: BASE_URL/mcp, or BASE_URL
/// itself (Claude sometimes sends the origin), after canonicalization.
bool names_our_resource(std::string_view sent, std::string_view resource,
                        std::string_view issuer) {
  auto c = canonical_resource(sent);
  return c == canonical_resource(resource) || c == canonical_resource(issuer);
}

std::string with_params(
  std::string_view base,
  const std::vector<std::pair<std::string, std::string>>& params) {
  std::string out{base};
  char sep = out.find('?') == std::string::npos ? '?' : '&';
  for (auto& [k, v] : params) {
    out += sep;
    out += k;
    out += '=';
    out += url_encode(v);
    sep = '&';
  }
  return out;
}

/// A repeated OAuth parameter (OAuth 2.1 §3.1: must be rejected).
std::string repeated_param(const form_data& f) {
  std::vector<std::string_view> seen;
  for (auto& [k, v] : f.fields()) {
    if (std::find(seen.begin(), seen.end(), k) != seen.end() && k != "scope")
      return k;
    seen.push_back(k);
  }
  return {};
}

response_type no_store(response_type res) {
  res.set(bhttp::field::cache_control, "no-store");
  res.set(bhttp::field::pragma, "no-cache");
  return res;
}

response_type oauth_error(bhttp::status status, std::string_view code,
                          std::string_view description) {
  return no_store(json_error(status, code, description));
}

response_type with_cors(response_type res) {
  res.set(bhttp::field::access_control_allow_origin, "*");
  return res;
}

// -- state --------------------------------------------------------------------

/// A validated authorization request waiting for the user's consent: the
/// code request to make once they approve (account and scopes still to
/// choose; `scopes` holds the requested ones).
struct pending_request {
  code_request code;
  std::string state;
  int64_t expires_at = 0;
};

/// A client as the authorization and token endpoints see it: registered
/// by DCR (in LMDB) or described by a metadata document (fetched).
struct client_view {
  std::string id;
  std::string name;
  std::vector<std::string> redirect_uris;
  /// Metadata documents list their redirect URIs exactly: no loopback
  /// port leeway.
  bool exact_redirects = false;
};

struct oauth_server {
  std::shared_ptr<const site> web;
  std::string issuer;
  std::string resource;
  std::unique_ptr<client_metadata_fetcher> documents;
  /// Token requests per client, and per code or refresh token presented
  /// (one grant's credential), per minute: a flood of one client cannot
  /// keep the TOKEN AUTHORITY busy for everyone.
  rate_limiter token_per_client{token_requests_per_client};
  rate_limiter token_per_credential{token_requests_per_credential};

  std::mutex mtx;
  std::unordered_map<std::string, pending_request> pending;
  /// Registrations of one source (address_bucket): in the current
  /// 10-minute window and in the current hour.
  struct registration_count {
    int64_t window_start = 0;
    int in_window = 0;
    int64_t hour_start = 0;
    int in_hour = 0;
  };
  std::unordered_map<std::string, registration_count> registrations;

  void prune(int64_t now) {
    for (auto i = pending.begin(); i != pending.end();)
      i = i->second.expires_at < now ? pending.erase(i) : std::next(i);
    for (auto i = registrations.begin(); i != registrations.end();)
      i = i->second.hour_start + 3600 < now ? registrations.erase(i)
                                            : std::next(i);
  }

};

using server_ptr = std::shared_ptr<oauth_server>;

/// Sentence for a client id that is neither registered nor a document URL.
constexpr const char* unknown_client_text
  = "This application is not registered here (unknown client_id). Start "
    "the connection again from the application.";

/// Looks a client up: LMDB for registered clients, the fetcher (cache or
/// HTTPS, never blocking the caller) for metadata document URLs. Fails with
/// a sentence for the person.
void resolve_client(const server_ptr& s, const std::string& id,
                    const std::string& requester,
                    std::function<void(caf::expected<client_view>)> then) {
  if (oauth::is_metadata_client_id(id)) {
    s->documents->get(id, requester,
                      [then](caf::expected<oauth::client_metadata> doc) {
      if (!doc) {
        // Too many fetches at once is ours to fix, not the client's.
        then(doc.error() == ec::too_busy
               ? doc.error()
               : caf::make_error(ec::invalid_client,
                                 "The application's client metadata "
                                 "document cannot be used: "
                                   + describe(doc.error())));
        return;
      }
      then(client_view{doc->client_id, doc->name, doc->redirect_uris, true});
    });
    return;
  }
  if (id.empty() || id.size() > 200) {
    then(caf::make_error(ec::invalid_client, unknown_client_text));
    return;
  }
  run_task(*s->web, [s, id, then](task self) {
    self->request(s->web->actors.tokens, page_timeout, atom::get_v, id)
      .then(
        [then](const oauth_client& c) {
          then(client_view{c.id, c.name, c.redirect_uris, false});
        },
        [then](const caf::error& err) {
          if (err == ec::invalid_client)
            then(caf::make_error(ec::invalid_client, unknown_client_text));
          else
            then(err);
        });
  });
}

std::string scope_list_json(scope_set set) {
  std::string out = "[";
  for (auto s : all_scopes) {
    if (!has_scope(set, s))
      continue;
    if (out.size() > 1)
      out += ',';
    out += json_quote(to_string(s));
  }
  return out + "]";
}

// -- metadata -----------------------------------------------------------------

response_type as_metadata(const oauth_server& s) {
  auto& i = s.issuer;
  std::string body
    = "{\"issuer\":" + json_quote(i)
      + ",\"authorization_endpoint\":" + json_quote(i + "/oauth/authorize")
      + ",\"token_endpoint\":" + json_quote(i + "/oauth/token")
      + ",\"registration_endpoint\":" + json_quote(i + "/oauth/register")
      + ",\"revocation_endpoint\":" + json_quote(i + "/oauth/revoke")
      + ",\"scopes_supported\":" + scope_list_json(every_scope)
      + ",\"response_types_supported\":[\"code\"]"
      + ",\"response_modes_supported\":[\"query\"]"
      + ",\"grant_types_supported\":[\"authorization_code\",\"refresh_token\"]"
      + ",\"code_challenge_methods_supported\":[\"S256\"]"
      + ",\"token_endpoint_auth_methods_supported\":[\"none\"]"
      + ",\"revocation_endpoint_auth_methods_supported\":[\"none\"]"
      + ",\"authorization_response_iss_parameter_supported\":true"
      + ",\"client_id_metadata_document_supported\":true}";
  auto res = json_response(bhttp::status::ok, std::move(body));
  res.set(bhttp::field::cache_control, "public, max-age=300");
  return with_cors(std::move(res));
}

response_type pr_metadata(const oauth_server& s) {
  std::string body = "{\"resource\":" + json_quote(s.resource)
                     + ",\"authorization_servers\":[" + json_quote(s.issuer)
                     + "],\"scopes_supported\":" + scope_list_json(every_scope)
                     + ",\"bearer_methods_supported\":[\"header\"]"
                     + ",\"resource_name\":\"Postern\"}";
  auto res = json_response(bhttp::status::ok, std::move(body));
  res.set(bhttp::field::cache_control, "public, max-age=300");
  return with_cors(std::move(res));
}

// -- registration -------------------------------------------------------------

response_type reg_error(std::string_view code, std::string_view text) {
  return with_cors(oauth_error(bhttp::status::bad_request, code, text));
}

response_type registration_response(const oauth_client& c);

void handle_register(const server_ptr& s, const request& req,
                     const responder& respond) {
  auto now = unix_seconds();
  {
    std::lock_guard guard{s->mtx};
    s->prune(now);
    auto& slot = s->registrations[address_bucket(req.client_address)];
    if (slot.window_start + registration_window < now) {
      slot.window_start = now;
      slot.in_window = 0;
    }
    if (slot.hour_start + 3600 < now) {
      slot.hour_start = now;
      slot.in_hour = 0;
    }
    int64_t retry = 0;
    if (slot.in_window >= registrations_per_window)
      retry = slot.window_start + registration_window - now;
    if (slot.in_hour >= registrations_per_hour)
      retry = std::max(retry, slot.hour_start + 3600 - now);
    if (retry > 0) {
      auto res = with_cors(oauth_error(
        bhttp::status::too_many_requests, "temporarily_unavailable",
        "Too many registrations from this network (at most "
          + std::to_string(registrations_per_window) + " per 10 minutes and "
          + std::to_string(registrations_per_hour) + " per hour); try again in "
          + std::to_string(retry) + " seconds."));
      res.set(bhttp::field::retry_after, std::to_string(retry));
      respond(std::move(res));
      return;
    }
    ++slot.in_window;
    ++slot.in_hour;
  }
  auto& body = req.raw.body();
  if (body.size() > 16384) {
    respond(reg_error("invalid_client_metadata", "The request is too large."));
    return;
  }
  rapidjson::Document d;
  // Iterative and depth-limited: no recursion on hostile nesting.
  if (!mcp::parse_bounded(d, body) || !d.IsObject()) {
    respond(reg_error("invalid_client_metadata",
                      "The body must be a JSON object."));
    return;
  }
  oauth_client c;
  if (!d.HasMember("redirect_uris") || !d["redirect_uris"].IsArray()
      || d["redirect_uris"].Empty() || d["redirect_uris"].Size() > 10) {
    respond(reg_error("invalid_redirect_uri",
                      "redirect_uris must list 1 to 10 URIs."));
    return;
  }
  for (auto& u : d["redirect_uris"].GetArray()) {
    if (!u.IsString()) {
      respond(reg_error("invalid_redirect_uri",
                        "redirect_uris must be strings."));
      return;
    }
    std::string uri{u.GetString(), u.GetStringLength()};
    if (auto why = check_redirect_uri(uri); !why.empty()) {
      respond(reg_error("invalid_redirect_uri", why));
      return;
    }
    c.redirect_uris.push_back(std::move(uri));
  }
  auto string_list_ok = [&](const char* name,
                            std::vector<std::string_view> allowed) {
    if (!d.HasMember(name))
      return true;
    auto& v = d[name];
    if (!v.IsArray())
      return false;
    for (auto& x : v.GetArray())
      if (!x.IsString()
          || std::find(allowed.begin(), allowed.end(),
                       std::string_view{x.GetString(), x.GetStringLength()})
               == allowed.end())
        return false;
    return true;
  };
  if (!string_list_ok("grant_types", {"authorization_code", "refresh_token"})) {
    respond(reg_error("invalid_client_metadata",
                      "Only the authorization_code and refresh_token grant "
                      "types are supported."));
    return;
  }
  if (!string_list_ok("response_types", {"code"})) {
    respond(reg_error("invalid_client_metadata",
                      "Only the code response type is supported."));
    return;
  }
  if (d.HasMember("token_endpoint_auth_method")
      && (!d["token_endpoint_auth_method"].IsString()
          || std::string_view{d["token_endpoint_auth_method"].GetString()}
               != "none")) {
    respond(reg_error("invalid_client_metadata",
                      "Only public clients (token_endpoint_auth_method "
                      "\"none\") are supported."));
    return;
  }
  if (d.HasMember("client_name")) {
    if (!d["client_name"].IsString()) {
      respond(reg_error("invalid_client_metadata",
                        "client_name must be a string."));
      return;
    }
    c.name = oauth::clean_client_name(
      {d["client_name"].GetString(), d["client_name"].GetStringLength()});
  }
  if (c.name.empty())
    c.name = host_of(c.redirect_uris.front());
  run_task(*s->web, [s, c = std::move(c), respond](task self) {
    self->request(s->web->actors.tokens, page_timeout, atom::put_v, c)
      .then([respond](const oauth_client& registered) {
              respond(registration_response(registered));
            },
            [respond](const caf::error& err) {
              if (err != ec::too_busy)
                POSTERN_WARN("oauth: registration failed: {}", render(err));
              respond(with_cors(oauth_error(bhttp::status::service_unavailable,
                                            "temporarily_unavailable",
                                            err == ec::too_busy
                                              ? describe(err)
                                              : "Try again in a moment.")));
            });
  });
}

/// RFC 7591 §3.2.1: the client's metadata as registered.
response_type registration_response(const oauth_client& c) {
  mcp::json_writer w;
  w.begin_object();
  w.key("client_id").string(c.id);
  w.key("client_id_issued_at").integer(c.created_at);
  w.key("client_name").string(c.name);
  w.key("redirect_uris").begin_array();
  for (auto& u : c.redirect_uris)
    w.string(u);
  w.end_array();
  w.key("grant_types").begin_array().string("authorization_code").string(
    "refresh_token");
  w.end_array();
  w.key("response_types").begin_array().string("code").end_array();
  w.key("token_endpoint_auth_method").string("none");
  w.end_object();
  return with_cors(no_store(json_response(bhttp::status::created, w.str())));
}

// -- authorize ----------------------------------------------------------------

response_type authorize_error_page(std::string message) {
  auto res = message_page(bhttp::status::bad_request,
                          "Cannot start the authorization",
                          std::move(message), nullptr, "/", "Home");
  res.set(bhttp::field::cache_control, "no-store");
  return res;
}

struct checked_request {
  std::optional<response_type> error;
  /// Set when `error` redirects to a redirect URI that anyone may have
  /// registered: the sentence for the error page shown instead to someone
  /// not signed in (RFC 9700 §4.11: no open redirector).
  std::string untrusted_redirect_text;
  pending_request req;
  std::string client_name;
};

/// True when errors may go back to the redirect URI before anyone signed
/// in: the client is a metadata document (its host published it) or the
/// redirect stays on the user's own machine.
bool trusted_redirect(const client_view& client, std::string_view redirect) {
  return client.exact_redirects || is_loopback_host(host_of(redirect));
}

/// Validates an authorization request: errors before the redirect URI is
/// trusted become a page, later ones a redirect with `error` and `iss`.
checked_request check_authorize(oauth_server& s, const form_data& q,
                                const client_view& client) {
  checked_request out;
  auto redirect = q.get("redirect_uri");
  if (redirect.empty()) {
    if (client.redirect_uris.size() != 1) {
      out.error = authorize_error_page("The request lacks a redirect_uri.");
      return out;
    }
    redirect = client.redirect_uris.front();
  } else if (std::none_of(client.redirect_uris.begin(),
                          client.redirect_uris.end(),
                          [&](const std::string& r) {
                            return client.exact_redirects
                                     ? r == redirect
                                     : redirect_matches(r, redirect);
                          })) {
    out.error = authorize_error_page(
      "The redirect_uri is not one this application registered.");
    return out;
  }
  // From here on, errors go back to the (trusted) redirect URI.
  auto state = q.get("state");
  auto fail = [&](std::string_view code, std::string_view text) {
    std::vector<std::pair<std::string, std::string>> ps{
      {"error", std::string{code}}, {"error_description", std::string{text}}};
    if (!state.empty())
      ps.emplace_back("state", state);
    ps.emplace_back("iss", s.issuer);
    out.error = see_other(with_params(redirect, ps));
    if (!trusted_redirect(client, redirect))
      out.untrusted_redirect_text
        = "The application sent an invalid request (" + std::string{code}
          + "): " + std::string{text};
  };
  if (q.get("response_type") != "code") {
    fail("unsupported_response_type", "Only response_type=code is supported.");
    return out;
  }
  auto challenge = q.get("code_challenge");
  if (challenge.size() != 43 || q.get("code_challenge_method") != "S256") {
    fail("invalid_request",
         "PKCE with code_challenge_method=S256 is required.");
    return out;
  }
  scope_set scopes = every_scope;
  // offline_access asks for a refresh token, which every grant gets anyway
  // (Claude.ai never asks for it): accepted and dropped.
  if (auto text = without_offline_access(q.get("scope")); !text.empty()) {
    auto parsed = parse_scopes(text);
    if (!parsed || *parsed == 0) {
      fail("invalid_scope", "Unknown scope requested.");
      return out;
    }
    scopes = *parsed;
  }
  auto resource = s.resource;
  if (auto r = q.get("resource"); !r.empty()) {
    if (!names_our_resource(r, s.resource, s.issuer)) {
      fail("invalid_target", "Unknown resource; use " + s.resource);
      return out;
    }
  }
  out.client_name = client.name;
  out.req.code.client_id = client.id;
  out.req.code.client_name = client.name;
  out.req.code.redirect_uri = redirect;
  out.req.code.challenge = challenge;
  out.req.code.resource = resource;
  out.req.code.scopes = scopes;
  out.req.state = state;
  return out;
}

void show_consent(const server_ptr& s, const request& req,
                  const responder& respond, const checked_request& checked);

/// An error for a redirect URI nobody vouches for: redirected only for a
/// signed-in person (who sees Postern's pages, not a phishing link's
/// target), else an error page.
void answer_untrusted_error(const server_ptr& s, const request& req,
                            const responder& respond, checked_request checked) {
  auto page = std::make_shared<response_type>(
    authorize_error_page(checked.untrusted_redirect_text));
  auto redirect = std::make_shared<response_type>(std::move(*checked.error));
  auto cookie = find_cookie(req, s->web->session_cookie());
  if (!cookie || cookie->empty() || cookie->size() > 128) {
    respond(std::move(*page));
    return;
  }
  run_task(*s->web, [s, token = *cookie, respond, page, redirect](task self) {
    self->request(s->web->actors.directory, page_timeout, atom::session_v, token)
      .then([respond, redirect](const user_info&) { respond(std::move(*redirect)); },
            [respond, page](const caf::error&) { respond(std::move(*page)); });
  });
}

void handle_authorize_get(const server_ptr& s, const request& req,
                          const responder& respond) {
  auto q = form_data::parse(req.query());
  if (auto dup = repeated_param(q); !dup.empty()) {
    respond(authorize_error_page("The parameter \"" + dup
                                 + "\" appears more than once."));
    return;
  }
  // A metadata document may have to be fetched: keep the request.
  auto copy = std::make_shared<request>(req);
  resolve_client(s, q.get("client_id"), address_bucket(req.client_address),
                 [s, copy, respond](caf::expected<client_view> client) {
                   if (!client) {
                     respond(authorize_error_page(describe(client.error())));
                     return;
                   }
                   auto query = form_data::parse(copy->query());
                   auto checked = check_authorize(*s, query, *client);
                   if (checked.error && !checked.untrusted_redirect_text.empty()) {
                     answer_untrusted_error(s, *copy, respond,
                                            std::move(checked));
                     return;
                   }
                   if (checked.error) {
                     respond(std::move(*checked.error));
                     return;
                   }
                   show_consent(s, *copy, respond, checked);
                 });
}

/// The consent page (after login), for a checked authorization request.
void show_consent(const server_ptr& s, const request& req,
                  const responder& respond, const checked_request& checked) {
  with_session(s->web, req, respond,
               [s, respond, checked](task self, const web_session& ws) {
                 self
                   ->request(s->web->actors.directory, page_timeout,
                             atom::list_v, ws.user.id)
                   .then(
                     [s, respond, checked, ws](
                       const std::vector<account_settings>& accounts) {
                       if (accounts.empty()) {
                         respond(message_page(
                           bhttp::status::ok, "No email account yet",
                           "Add an email account on the dashboard, then "
                           "connect the application again.",
                           &ws));
                         return;
                       }
                       auto id = storage::random_token(24);
                       auto pending = checked.req;
                       pending.code.user = ws.user.id;
                       pending.expires_at = unix_seconds() + request_ttl;
                       {
                         std::lock_guard guard{s->mtx};
                         s->prune(unix_seconds());
                         auto mine = std::count_if(
                           s->pending.begin(), s->pending.end(),
                           [&](const auto& kv) {
                             return kv.second.code.user == ws.user.id;
                           });
                         if (static_cast<size_t>(mine) >= max_pending_per_user) {
                           auto res = message_page(
                             bhttp::status::too_many_requests,
                             "Too many connection requests",
                             "You have "
                               + std::to_string(max_pending_per_user)
                               + " connection requests waiting for an "
                                 "answer. Answer one of them, or wait ten "
                                 "minutes until they expire, then start "
                                 "the connection again.",
                             &ws);
                           res.set(bhttp::field::retry_after,
                                   std::to_string(request_ttl));
                           respond(std::move(res));
                           return;
                         }
                         if (s->pending.size() >= max_pending) {
                           respond(message_page(
                             bhttp::status::service_unavailable,
                             "Too busy", "Try again in a few minutes.", &ws));
                           return;
                         }
                         s->pending.emplace(id, pending);
                       }
                       page p;
                       p.title = "Allow access";
                       p.body = "oauth_consent";
                       p.narrow = true;
                       p.session = &ws;
                       p.data.set("client_name", checked.client_name);
                       p.data.set("redirect_host",
                                  host_of(pending.code.redirect_uri));
                       p.data.set("request", id);
                       auto list = ui::value::list();
                       bool first = true;
                       for (auto& a : accounts) {
                         auto v = ui::value::object();
                         v.set("id", a.id.value);
                         v.set("label", a.label.empty() ? a.imap.username
                                                        : a.label);
                         v.set("first", first);
                         first = false;
                         list.push(std::move(v));
                       }
                       p.data.set("accounts", std::move(list));
                       auto scopes = ui::value::list();
                       for (auto sc : all_scopes)
                         if (has_scope(pending.code.scopes, sc)) {
                           auto v = ui::value::object();
                           v.set("name", std::string{to_string(sc)});
                           scopes.push(std::move(v));
                         }
                       p.data.set("scopes", std::move(scopes));
                       // Chromium applies form-action to the redirect that
                       // follows the POST: allow the client's origin.
                       std::string csp{page_csp};
                       auto fa = csp.find("form-action 'self'");
                       if (fa != std::string::npos)
                         csp.insert(fa + 18,
                                    " " + redirect_origin(
                                            pending.code.redirect_uri));
                       p.csp = csp;
                       p.headers.emplace_back("Cache-Control", "no-store");
                       respond(render_page(p));
                     },
                     [respond, ws](const caf::error& err) {
                       respond(error_page(err, &ws));
                     });
               });
}

void handle_authorize_post(const server_ptr& s, const request& req,
                           const responder& respond) {
  with_session_form(
    s->web, req, respond,
    [s, respond](task self, const web_session& ws, const form_data& form) {
      auto now = unix_seconds();
      pending_request pr;
      {
        std::lock_guard guard{s->mtx};
        s->prune(now);
        auto i = s->pending.find(form.get("request"));
        if (i == s->pending.end() || !(i->second.code.user == ws.user.id)) {
          respond(message_page(bhttp::status::bad_request,
                               "This request has expired",
                               "Start the connection again from the "
                               "application.",
                               &ws));
          return;
        }
        pr = i->second;
        s->pending.erase(i);
      }
      std::vector<std::pair<std::string, std::string>> ps;
      auto finish = [&] {
        if (!pr.state.empty())
          ps.emplace_back("state", pr.state);
        ps.emplace_back("iss", s->issuer);
        respond(see_other(with_params(pr.code.redirect_uri, ps)));
      };
      scope_set chosen = 0;
      for (auto& name : form.all("scope"))
        if (auto sc = parse_scope(name))
          chosen |= bit(*sc);
      chosen &= pr.code.scopes;
      auto account = form.get("account");
      if (form.get("decision") != "approve" || chosen == 0
          || account.empty()) {
        ps.emplace_back("error", "access_denied");
        ps.emplace_back("error_description",
                        "The user denied the request.");
        finish();
        return;
      }
      auto cr = pr.code;
      cr.account = account_id{account};
      cr.scopes = chosen;
      self->request(s->web->actors.tokens, page_timeout, atom::issue_v, cr)
        .then(
          [s, respond, pr](const secret& code) {
            std::vector<std::pair<std::string, std::string>> params{
              {"code", code.reveal()}};
            if (!pr.state.empty())
              params.emplace_back("state", pr.state);
            params.emplace_back("iss", s->issuer);
            respond(see_other(with_params(pr.code.redirect_uri, params)));
          },
          [respond, ws](const caf::error& err) {
            if (err == ec::no_such_account)
              respond(message_page(bhttp::status::bad_request,
                                   "No such email account",
                                   "Choose one of your own email accounts; "
                                   "start the connection again from the "
                                   "application.",
                                   &ws));
            else
              respond(error_page(err, &ws));
          });
    });
}

// -- token --------------------------------------------------------------------

std::string token_json(const token_pair& tok) {
  return "{\"access_token\":" + json_quote(tok.access_token.reveal())
         + ",\"token_type\":\"Bearer\",\"expires_in\":"
         + std::to_string(std::max<int64_t>(0, tok.expires_at - unix_seconds()))
         + ",\"refresh_token\":" + json_quote(tok.refresh_token.reveal())
         + ",\"scope\":" + json_quote(format_scopes(tok.scopes)) + "}";
}

/// The token endpoint's answer to a TOKEN AUTHORITY error.
response_type token_error(const caf::error& err) {
  if (err.category() == caf::atom("postern")) {
    auto text = describe(err);
    switch (static_cast<ec>(err.code())) {
      case ec::invalid_grant:
        return oauth_error(bhttp::status::bad_request, "invalid_grant", text);
      case ec::invalid_request:
        return oauth_error(bhttp::status::bad_request, "invalid_request", text);
      case ec::invalid_scope:
        return oauth_error(bhttp::status::bad_request, "invalid_scope", text);
      case ec::invalid_target:
        return oauth_error(bhttp::status::bad_request, "invalid_target", text);
      default:
        break;
    }
  }
  POSTERN_WARN("oauth: token request failed: {}", render(err));
  auto res = oauth_error(bhttp::status::service_unavailable,
                         "temporarily_unavailable", "Try again in a moment.");
  res.set(bhttp::field::retry_after, "5");
  return res;
}

/// The `resource` parameter as the TOKEN AUTHORITY compares it: this
/// server's resource for every spelling of it, else canonicalized.
std::string requested_resource(const oauth_server& s, const form_data& f) {
  auto r = f.get("resource");
  if (r.empty())
    return {};
  if (names_our_resource(r, s.resource, s.issuer))
    return s.resource;
  return canonical_resource(r);
}

/// Sends a token request to the TOKEN AUTHORITY and answers it.
template <class Atom, class Request>
void ask_for_tokens(const server_ptr& s, Atom what, Request x,
                    const responder& respond) {
  run_task(*s->web, [s, what, x = std::move(x), respond](task self) {
    self->request(s->web->actors.tokens, page_timeout, what, x)
      .then(
        [respond](const token_pair& tok) {
          respond(no_store(json_response(bhttp::status::ok, token_json(tok))));
        },
        [respond](const caf::error& err) { respond(token_error(err)); });
  });
}

void token_by_code(const server_ptr& s, const form_data& f,
                   const std::string& client_id, const responder& respond) {
  code_exchange x;
  x.code = secret{f.get("code")};
  x.client_id = client_id;
  x.verifier = secret{f.get("code_verifier")};
  x.has_redirect_uri = f.has("redirect_uri");
  x.redirect_uri = f.get("redirect_uri");
  x.resource = requested_resource(*s, f);
  ask_for_tokens(s, atom::redeem_v, std::move(x), respond);
}

void token_by_refresh(const server_ptr& s, const form_data& f,
                      const std::string& client_id, const responder& respond) {
  refresh_request x;
  x.refresh_token = secret{f.get("refresh_token")};
  x.client_id = client_id;
  if (auto text = f.get("scope"); !text.empty()) {
    auto wanted = parse_scopes(text);
    if (!wanted || *wanted == 0) {
      respond(oauth_error(bhttp::status::bad_request, "invalid_scope",
                          "Unknown scope."));
      return;
    }
    x.scopes = *wanted;
  }
  x.resource = requested_resource(*s, f);
  ask_for_tokens(s, atom::refresh_v, std::move(x), respond);
}

void token_for_client(const server_ptr& s, const form_data& f,
                      const std::string& client_id, const responder& respond);

void handle_token(const server_ptr& s, const request& req,
                  const responder& respond) {
  auto f = form_data::parse(req.raw.body());
  if (auto dup = repeated_param(f); !dup.empty()) {
    respond(oauth_error(bhttp::status::bad_request, "invalid_request",
                        "The parameter \"" + dup + "\" appears twice."));
    return;
  }
  if (req.raw.find(bhttp::field::authorization) != req.raw.end()) {
    // Only public clients exist here.
    auto res = oauth_error(bhttp::status::unauthorized, "invalid_client",
                           "Client authentication is not supported; this "
                           "server only has public clients.");
    res.set(bhttp::field::www_authenticate, "Basic realm=\"postern\"");
    respond(std::move(res));
    return;
  }
  auto grant_type = f.get("grant_type");
  if (grant_type != "authorization_code" && grant_type != "refresh_token") {
    respond(oauth_error(bhttp::status::bad_request, "unsupported_grant_type",
                        "Use authorization_code or refresh_token."));
    return;
  }
  auto client_id = f.get("client_id");
  auto credential = f.get(grant_type == "refresh_token" ? "refresh_token"
                                                        : "code");
  auto verdict = s->token_per_client.acquire("c:" + client_id.substr(0, 2100));
  if (verdict.allowed && !credential.empty())
    verdict = s->token_per_credential.acquire(
      storage::sha256(credential.substr(0, 4096)));
  if (!verdict.allowed) {
    auto res = oauth_error(bhttp::status::too_many_requests, "slow_down",
                           "Too many token requests for this client or "
                           "grant; try again in "
                             + std::to_string(verdict.retry_after)
                             + " seconds.");
    res.set(bhttp::field::retry_after, std::to_string(verdict.retry_after));
    respond(std::move(res));
    return;
  }
  resolve_client(s, client_id, address_bucket(req.client_address),
                 [s, f, client_id, respond](caf::expected<client_view> c) {
                   if (!c && c.error() != ec::invalid_client) {
                     respond(token_error(c.error()));
                     return;
                   }
                   if (!c) {
                     // Claude registers again on 401 invalid_client.
                     respond(oauth_error(bhttp::status::unauthorized,
                                         "invalid_client",
                                         oauth::is_metadata_client_id(client_id)
                                           ? describe(c.error())
                                           : "Unknown client; register "
                                             "again."));
                     return;
                   }
                   token_for_client(s, f, client_id, respond);
                 });
}

void token_for_client(const server_ptr& s, const form_data& f,
                      const std::string& client_id,
                      const responder& respond) {
  auto grant_type = f.get("grant_type");
  if (grant_type == "authorization_code") {
    if (f.get("code").empty()) {
      respond(oauth_error(bhttp::status::bad_request, "invalid_request",
                          "code is required."));
      return;
    }
    token_by_code(s, f, client_id, respond);
  } else {
    if (f.get("refresh_token").empty()) {
      respond(oauth_error(bhttp::status::bad_request, "invalid_request",
                          "refresh_token is required."));
      return;
    }
    token_by_refresh(s, f, client_id, respond);
  }
}

// -- revoke -------------------------------------------------------------------

void handle_revoke(const server_ptr& s, const request& req,
                   const responder& respond) {
  auto f = form_data::parse(req.raw.body());
  auto token = f.get("token");
  if (token.empty()) {
    respond(oauth_error(bhttp::status::bad_request, "invalid_request",
                        "token is required."));
    return;
  }
  token_revocation x;
  x.token = secret{token};
  x.client_id = f.get("client_id");
  run_task(*s->web, [s, x = std::move(x), respond](task self) {
    self->request(s->web->actors.tokens, page_timeout, atom::revoke_v, x)
      .then(
        [respond](atom::ok) {
          respond(with_cors(no_store(json_response(bhttp::status::ok, "{}"))));
        },
        [respond](const caf::error& err) {
          POSTERN_WARN("oauth: revocation failed: {}", render(err));
          auto res = oauth_error(bhttp::status::service_unavailable,
                                 "temporarily_unavailable", "Try again.");
          res.set(bhttp::field::retry_after, "5");
          respond(std::move(res));
        });
  });
}

} // namespace

void add_oauth_routes(router& r, const config& cfg, const endpoints& eps) {
  auto s = std::make_shared<oauth_server>();
  s->web = make_site(cfg, eps);
  auto mcp = mcp_settings::from(cfg);
  s->issuer = mcp.base_url;
  s->resource = mcp.resource();
  client_metadata_fetcher::options fo;
  fo.allow_loopback = cfg.client_metadata_allow_loopback;
  if (fo.allow_loopback)
    POSTERN_WARN("CLIENT_METADATA_ALLOW_LOOPBACK is on: client metadata "
                 "documents may come from this machine (tests only)");
  s->documents = std::make_unique<client_metadata_fetcher>(std::move(fo));
  auto as_meta = [s](const request&, const responder& respond) {
    respond(as_metadata(*s));
  };
  auto pr_meta = [s](const request&, const responder& respond) {
    respond(pr_metadata(*s));
  };
  r.add(verb::get, "/.well-known/oauth-authorization-server", as_meta);
  r.add(verb::get, "/.well-known/oauth-protected-resource", pr_meta);
  r.add(verb::get, "/.well-known/oauth-protected-resource/mcp", pr_meta);
  auto reg = [s](const request& req, const responder& respond) {
    handle_register(s, req, respond);
  };
  r.add(verb::post, "/oauth/register", reg);
  r.add(verb::post, "/register", reg);
  r.add(verb::get, "/oauth/authorize",
        [s](const request& req, const responder& respond) {
          handle_authorize_get(s, req, respond);
        });
  r.add(verb::post, "/oauth/authorize",
        [s](const request& req, const responder& respond) {
          handle_authorize_post(s, req, respond);
        });
  r.add(verb::post, "/oauth/token",
        [s](const request& req, const responder& respond) {
          handle_token(s, req, respond);
        });
  r.add(verb::post, "/oauth/revoke",
        [s](const request& req, const responder& respond) {
          handle_revoke(s, req, respond);
        });
}

} // namespace postern::http
