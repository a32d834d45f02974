// SPDX-License-Identifier: Apache-2.0
#include "postern/http/oauth.hpp"

#include "postern/account.hpp"
#include "postern/clock.hpp"
#include "postern/error.hpp"
#include "postern/grant.hpp"
#include "postern/http/form.hpp"
#include "postern/http/mcp_endpoint.hpp"
#include "postern/http/responses.hpp"
#include "postern/http/web.hpp"
#include "postern/log.hpp"
#include "postern/mcp/json.hpp"
#include "postern/storage/crypto.hpp"
#include "postern/storage/grant_store.hpp"

#include <rapidjson/document.h>

#include <algorithm>
#include <cctype>
#include <mutex>
#include <unordered_map>

namespace postern::http {

namespace {

using namespace web;
using verb = bhttp::verb;

// -- policy -------------------------------------------------------------------

constexpr int64_t code_ttl = 60;
constexpr int64_t request_ttl = 600;
constexpr int64_t access_ttl = 3600;
constexpr int64_t refresh_idle = int64_t{30} * 86400;
constexpr int64_t grant_cap = int64_t{90} * 86400;
/// The immediately previous refresh token still works this long after the
/// rotation (parallel refreshes, lost responses).
constexpr int64_t refresh_grace = 30;
/// Registered clients never used for a token are removed after a day,
/// used ones after 30 days without use.
constexpr int64_t client_unused_ttl = 86400;
constexpr int64_t client_idle_ttl = int64_t{30} * 86400;
constexpr size_t max_clients = 20000;
constexpr size_t max_pending = 10000;
/// Registrations per client address and window.
constexpr int registrations_per_window = 30;
constexpr int64_t registration_window = 600;

// -- small helpers ------------------------------------------------------------

struct uri_parts {
  std::string scheme;
  std::string host; // lower case, brackets kept for IPv6
  std::string port;
  std::string rest; // path, query
};

std::optional<uri_parts> split_uri(std::string_view uri) {
  auto sep = uri.find("://");
  if (sep == std::string_view::npos || sep == 0)
    return std::nullopt;
  uri_parts p;
  for (auto c : uri.substr(0, sep))
    p.scheme += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  auto rest = uri.substr(sep + 3);
  auto end = rest.find_first_of("/?#");
  auto authority = rest.substr(0, end);
  p.rest = end == std::string_view::npos ? std::string{}
                                         : std::string{rest.substr(end)};
  if (authority.empty() || authority.find('@') != std::string_view::npos)
    return std::nullopt;
  auto colon = authority.rfind(':');
  auto bracket = authority.rfind(']');
  if (colon != std::string_view::npos
      && (bracket == std::string_view::npos || colon > bracket)) {
    p.port = std::string{authority.substr(colon + 1)};
    authority = authority.substr(0, colon);
    if (p.port.empty()
        || !std::all_of(p.port.begin(), p.port.end(),
                        [](char c) { return c >= '0' && c <= '9'; }))
      return std::nullopt;
  }
  if (authority.empty())
    return std::nullopt;
  for (auto c : authority)
    p.host += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return p;
}

bool is_loopback(const uri_parts& p) {
  return p.scheme == "http"
         && (p.host == "127.0.0.1" || p.host == "[::1]"
             || p.host == "localhost");
}

/// The origin a browser goes to for a redirect URI (for CSP form-action).
std::string redirect_origin(std::string_view uri) {
  if (auto p = split_uri(uri))
    return p->scheme + "://" + p->host + (p->port.empty() ? "" : ":" + p->port);
  auto colon = uri.find(':');
  return std::string{uri.substr(0, colon + 1)};
}

/// RFC 8707 resource canonicalization: scheme and host in lower case,
/// default port and a trailing slash dropped.
std::string canonical_resource(std::string_view uri) {
  auto p = split_uri(uri);
  if (!p)
    return std::string{uri};
  if ((p->scheme == "https" && p->port == "443")
      || (p->scheme == "http" && p->port == "80"))
    p->port.clear();
  auto rest = p->rest;
  while (rest.size() > 1 && rest.back() == '/')
    rest.pop_back();
  if (rest == "/")
    rest.clear();
  return p->scheme + "://" + p->host + (p->port.empty() ? "" : ":" + p->port)
         + rest;
}

/// True for the one resource of this server: BASE_URL/mcp, or BASE_URL
/// itself (Claude sometimes sends the origin), after canonicalization.
bool names_our_resource(std::string_view sent, std::string_view resource,
                        std::string_view issuer) {
  auto c = canonical_resource(sent);
  return c == canonical_resource(resource) || c == canonical_resource(issuer);
}

bool redirect_matches(std::string_view registered, std::string_view sent) {
  if (registered == sent)
    return true;
  // Loopback: any port (OAuth 2.1 §8.4.2).
  auto a = split_uri(registered);
  auto b = split_uri(sent);
  return a && b && is_loopback(*a) && is_loopback(*b) && a->host == b->host
         && a->rest == b->rest;
}

/// Checks one redirect URI of a registration; empty when fine.
std::string check_redirect_uri(std::string_view uri) {
  if (uri.empty() || uri.size() > 2000)
    return "redirect URIs must have 1 to 2000 characters";
  if (uri.find('#') != std::string_view::npos)
    return "redirect URIs must not contain a fragment";
  for (auto c : uri)
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7F)
      return "redirect URIs must not contain spaces or control characters";
  auto p = split_uri(uri);
  if (p && p->scheme == "https")
    return {};
  if (p && is_loopback(*p))
    return {};
  if (p && p->scheme == "http")
    return "http redirect URIs are allowed only for loopback addresses";
  // Private-use schemes of native apps must be reverse-DNS names.
  auto colon = uri.find(':');
  if (colon != std::string_view::npos && colon > 0) {
    auto scheme = uri.substr(0, colon);
    bool ok = scheme.find('.') != std::string_view::npos
              && std::all_of(scheme.begin(), scheme.end(), [](char c) {
                   return std::isalnum(static_cast<unsigned char>(c))
                          || c == '.' || c == '-' || c == '+';
                 });
    if (ok && scheme != "javascript" && scheme != "data")
      return {};
  }
  return "redirect URIs must use https, http on a loopback address, or a "
         "reverse-DNS private scheme";
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

// -- clients ------------------------------------------------------------------

struct client_record {
  std::string id;
  std::string name;
  std::vector<std::string> redirect_uris;
  int64_t created_at = 0;
  int64_t used_at = 0;
};

std::string encode_client(const client_record& c) {
  mcp::json_writer w;
  w.begin_object();
  w.key("name").string(c.name);
  w.key("redirect_uris").begin_array();
  for (auto& u : c.redirect_uris)
    w.string(u);
  w.end_array();
  w.key("created_at").integer(c.created_at);
  w.key("used_at").integer(c.used_at);
  w.end_object();
  return w.str();
}

std::optional<client_record> decode_client(std::string_view id,
                                           std::string_view bytes) {
  rapidjson::Document d;
  d.Parse(bytes.data(), bytes.size());
  if (d.HasParseError() || !d.IsObject())
    return std::nullopt;
  client_record c;
  c.id = std::string{id};
  if (d.HasMember("name") && d["name"].IsString())
    c.name = d["name"].GetString();
  if (d.HasMember("redirect_uris") && d["redirect_uris"].IsArray())
    for (auto& u : d["redirect_uris"].GetArray())
      if (u.IsString())
        c.redirect_uris.emplace_back(u.GetString());
  if (d.HasMember("created_at") && d["created_at"].IsInt64())
    c.created_at = d["created_at"].GetInt64();
  if (d.HasMember("used_at") && d["used_at"].IsInt64())
    c.used_at = d["used_at"].GetInt64();
  return c;
}

// -- state --------------------------------------------------------------------

/// A validated authorization request waiting for the user's consent.
struct pending_request {
  user_id user;
  std::string client_id;
  std::string redirect_uri;
  std::string state;
  std::string challenge;
  std::string resource;
  scope_set scopes = 0;
  int64_t expires_at = 0;
};

/// An authorization code (stored under its SHA-256).
struct code_record {
  user_id user;
  account_id account;
  std::string client_id;
  std::string redirect_uri;
  std::string challenge;
  std::string resource;
  scope_set scopes = 0;
  int64_t expires_at = 0;
  bool used = false;
  /// The grant issued from it, for revocation on replay.
  grant_id grant;
};

struct oauth_server {
  std::shared_ptr<const site> web;
  std::shared_ptr<storage::environment> env;
  std::string issuer;
  std::string resource;

  std::mutex mtx;
  std::unordered_map<std::string, pending_request> pending;
  std::unordered_map<std::string, code_record> codes;
  std::unordered_map<std::string, std::pair<int64_t, int>> registrations;
  int64_t last_client_sweep = 0;

  std::optional<client_record> find_client(const std::string& id) {
    if (id.empty() || id.size() > 200)
      return std::nullopt;
    std::optional<client_record> result;
    auto err = env->read([&](const storage::txn& t) -> caf::error {
      if (auto v = t.get(storage::table::clients, id))
        result = decode_client(id, *v);
      return caf::none;
    });
    if (err)
      POSTERN_WARN("oauth: cannot read client: {}", render(err));
    return result;
  }

  void touch_client(const std::string& id, int64_t now) {
    auto err = env->write([&](storage::txn& t) -> caf::error {
      if (auto v = t.get(storage::table::clients, id))
        if (auto c = decode_client(id, *v)) {
          c->used_at = now;
          t.put(storage::table::clients, id, encode_client(*c));
        }
      return caf::none;
    });
    if (err)
      POSTERN_WARN("oauth: cannot update client: {}", render(err));
  }

  /// Removes clients past their idle time; returns the number left.
  size_t sweep_clients(int64_t now) {
    size_t left = 0;
    auto err = env->write([&](storage::txn& t) -> caf::error {
      std::vector<std::string> doomed;
      t.scan(storage::table::clients, "",
             [&](std::string_view key, std::string_view value) {
               auto c = decode_client(key, value);
               bool stale
                 = !c
                   || (c->used_at == 0
                       && c->created_at < now - client_unused_ttl)
                   || (c->used_at != 0 && c->used_at < now - client_idle_ttl);
               if (stale)
                 doomed.emplace_back(key);
               else
                 ++left;
               return true;
             });
      for (auto& k : doomed)
        t.erase(storage::table::clients, k);
      return caf::none;
    });
    if (err)
      POSTERN_WARN("oauth: cannot sweep clients: {}", render(err));
    return left;
  }

  void prune(int64_t now) {
    for (auto i = pending.begin(); i != pending.end();)
      i = i->second.expires_at < now ? pending.erase(i) : std::next(i);
    // Used codes stay a while so a replay can still revoke.
    for (auto i = codes.begin(); i != codes.end();)
      i = i->second.expires_at + request_ttl < now ? codes.erase(i)
                                                   : std::next(i);
    for (auto i = registrations.begin(); i != registrations.end();)
      i = i->second.first + registration_window < now ? registrations.erase(i)
                                                      : std::next(i);
  }

  void revoke_grant(const user_id& user, const grant_id& grant) {
    auto err = env->write([&](storage::txn& t) -> caf::error {
      storage::erase_grant(t, user, grant);
      return caf::none;
    });
    if (err)
      POSTERN_WARN("oauth: cannot revoke grant: {}", render(err));
    storage::note_grants_changed();
  }
};

using server_ptr = std::shared_ptr<oauth_server>;

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
      + ",\"client_id_metadata_document_supported\":false}";
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

void handle_register(const server_ptr& s, const request& req,
                     const responder& respond) {
  auto now = unix_seconds();
  {
    std::lock_guard guard{s->mtx};
    s->prune(now);
    auto& slot = s->registrations[req.client_address];
    if (slot.first + registration_window < now)
      slot = {now, 0};
    if (++slot.second > registrations_per_window) {
      auto res = with_cors(oauth_error(bhttp::status::too_many_requests,
                                       "temporarily_unavailable",
                                       "Too many registrations; try later."));
      res.set(bhttp::field::retry_after, std::to_string(registration_window));
      respond(std::move(res));
      return;
    }
  }
  auto& body = req.raw.body();
  if (body.size() > 16384) {
    respond(reg_error("invalid_client_metadata", "The request is too large."));
    return;
  }
  rapidjson::Document d;
  d.Parse(body.data(), body.size());
  if (d.HasParseError() || !d.IsObject()) {
    respond(reg_error("invalid_client_metadata",
                      "The body must be a JSON object."));
    return;
  }
  client_record c;
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
    std::string name{d["client_name"].GetString(),
                     d["client_name"].GetStringLength()};
    name = mcp::to_valid_utf8(name);
    std::string clean;
    for (auto ch : name)
      if (static_cast<unsigned char>(ch) >= 0x20 && ch != 0x7F)
        clean += ch;
    c.name = std::string{mcp::prefix_code_points(clean, 100)};
  }
  if (c.name.empty())
    c.name = "Unnamed client";
  c.id = "pc_" + storage::random_token(18);
  c.created_at = now;
  bool full = false;
  {
    std::unique_lock guard{s->mtx};
    bool sweep = s->last_client_sweep + 60 < now;
    if (sweep)
      s->last_client_sweep = now;
    guard.unlock();
    if (sweep)
      full = s->sweep_clients(now) >= max_clients;
  }
  if (full) {
    respond(with_cors(oauth_error(bhttp::status::service_unavailable,
                                  "temporarily_unavailable",
                                  "Too many registered clients; try later.")));
    return;
  }
  auto err = s->env->write([&](storage::txn& t) -> caf::error {
    t.put(storage::table::clients, c.id, encode_client(c));
    return caf::none;
  });
  if (err) {
    respond(error_response(err));
    return;
  }
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
  respond(with_cors(no_store(json_response(bhttp::status::created, w.str()))));
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
  pending_request req;
  std::string client_name;
};

/// Validates an authorization request: errors before the redirect URI is
/// trusted become a page, later ones a redirect with `error` and `iss`.
checked_request check_authorize(oauth_server& s, const form_data& q) {
  checked_request out;
  if (auto dup = repeated_param(q); !dup.empty()) {
    out.error = authorize_error_page("The parameter \"" + dup
                                     + "\" appears more than once.");
    return out;
  }
  auto client = s.find_client(q.get("client_id"));
  if (!client) {
    out.error = authorize_error_page(
      "This application is not registered here (unknown client_id). Start "
      "the connection again from the application.");
    return out;
  }
  auto redirect = q.get("redirect_uri");
  if (redirect.empty()) {
    if (client->redirect_uris.size() != 1) {
      out.error = authorize_error_page("The request lacks a redirect_uri.");
      return out;
    }
    redirect = client->redirect_uris.front();
  } else if (std::none_of(client->redirect_uris.begin(),
                          client->redirect_uris.end(),
                          [&](const std::string& r) {
                            return redirect_matches(r, redirect);
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
  if (auto text = q.get("scope"); !text.empty()) {
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
  out.client_name = client->name;
  out.req.client_id = client->id;
  out.req.redirect_uri = redirect;
  out.req.state = state;
  out.req.challenge = challenge;
  out.req.resource = resource;
  out.req.scopes = scopes;
  return out;
}

std::string host_of(std::string_view uri) {
  if (auto p = split_uri(uri))
    return p->host;
  return redirect_origin(uri);
}

void handle_authorize_get(const server_ptr& s, const request& req,
                          const responder& respond) {
  auto q = form_data::parse(req.query());
  auto checked = check_authorize(*s, q);
  if (checked.error) {
    respond(std::move(*checked.error));
    return;
  }
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
                       pending.user = ws.user.id;
                       pending.expires_at = unix_seconds() + request_ttl;
                       {
                         std::lock_guard guard{s->mtx};
                         s->prune(unix_seconds());
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
                                  host_of(pending.redirect_uri));
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
                         if (has_scope(pending.scopes, sc)) {
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
                                    " " + redirect_origin(pending.redirect_uri));
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
    [s, respond](task, const web_session& ws, const form_data& form) {
      auto now = unix_seconds();
      pending_request pr;
      {
        std::lock_guard guard{s->mtx};
        s->prune(now);
        auto i = s->pending.find(form.get("request"));
        if (i == s->pending.end() || !(i->second.user == ws.user.id)) {
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
        respond(see_other(with_params(pr.redirect_uri, ps)));
      };
      scope_set chosen = 0;
      for (auto& name : form.all("scope"))
        if (auto sc = parse_scope(name))
          chosen |= bit(*sc);
      chosen &= pr.scopes;
      auto account = form.get("account");
      if (form.get("decision") != "approve" || chosen == 0
          || account.empty()) {
        ps.emplace_back("error", "access_denied");
        ps.emplace_back("error_description",
                        "The user denied the request.");
        finish();
        return;
      }
      auto code = "pac_" + storage::random_token(32);
      code_record rec;
      rec.user = ws.user.id;
      rec.account = account_id{account};
      rec.client_id = pr.client_id;
      rec.redirect_uri = pr.redirect_uri;
      rec.challenge = pr.challenge;
      rec.resource = pr.resource;
      rec.scopes = chosen;
      rec.expires_at = now + code_ttl;
      {
        std::lock_guard guard{s->mtx};
        s->codes.emplace(storage::sha256(code), std::move(rec));
      }
      ps.emplace_back("code", code);
      finish();
    });
}

// -- token --------------------------------------------------------------------

bool verifier_ok(std::string_view v) {
  return v.size() >= 43 && v.size() <= 128
         && std::all_of(v.begin(), v.end(), [](char c) {
              return std::isalnum(static_cast<unsigned char>(c)) || c == '-'
                     || c == '.' || c == '_' || c == '~';
            });
}

std::string token_json(const std::string& access, int64_t expires_in,
                       const std::string& refresh, scope_set scopes) {
  return "{\"access_token\":" + json_quote(access)
         + ",\"token_type\":\"Bearer\",\"expires_in\":"
         + std::to_string(expires_in)
         + ",\"refresh_token\":" + json_quote(refresh)
         + ",\"scope\":" + json_quote(format_scopes(scopes)) + "}";
}

/// Stores a new refresh token for a grant; returns it.
std::string put_refresh(storage::txn& t, const grant_info& g,
                        uint64_t generation, int64_t now) {
  auto token = "prt_" + storage::random_token(32);
  storage::refresh_token_record rec;
  rec.user = g.user;
  rec.grant = g.id;
  rec.generation = generation;
  rec.issued_at = now;
  rec.expires_at = now + refresh_idle;
  if (g.expires_at != 0)
    rec.expires_at = std::min(rec.expires_at, g.expires_at);
  storage::put_refresh_token(t, storage::sha256(token), rec);
  return token;
}

void token_by_code(const server_ptr& s, const form_data& f,
                   const std::string& client_id, const responder& respond) {
  auto now = unix_seconds();
  auto digest = storage::sha256(f.get("code"));
  auto verifier = f.get("code_verifier");
  code_record rec;
  {
    std::lock_guard guard{s->mtx};
    auto i = s->codes.find(digest);
    if (i == s->codes.end()) {
      respond(oauth_error(bhttp::status::bad_request, "invalid_grant",
                          "Unknown or expired authorization code."));
      return;
    }
    auto& c = i->second;
    bool valid_request
      = c.client_id == client_id && verifier_ok(verifier)
        && storage::base64url(storage::sha256(verifier)) == c.challenge;
    if (c.used) {
      // A replay with otherwise valid parameters revokes what the code
      // issued (OAuth 2.1 §4.1.3); an invalid one does not (§7.5.2).
      if (valid_request && !c.grant.value.empty()) {
        auto user = c.user;
        auto grant = c.grant;
        c.grant = grant_id{};
        s->revoke_grant(user, grant);
      }
      respond(oauth_error(bhttp::status::bad_request, "invalid_grant",
                          "The authorization code was already used."));
      return;
    }
    if (c.expires_at < now) {
      respond(oauth_error(bhttp::status::bad_request, "invalid_grant",
                          "The authorization code has expired."));
      return;
    }
    if (c.client_id != client_id) {
      respond(oauth_error(bhttp::status::bad_request, "invalid_grant",
                          "The code was issued to another client."));
      return;
    }
    if (f.has("redirect_uri") && f.get("redirect_uri") != c.redirect_uri) {
      respond(oauth_error(bhttp::status::bad_request, "invalid_grant",
                          "redirect_uri does not match."));
      return;
    }
    if (!verifier_ok(verifier)) {
      respond(oauth_error(bhttp::status::bad_request, "invalid_request",
                          "code_verifier must have 43 to 128 unreserved "
                          "characters."));
      return;
    }
    if (!valid_request) {
      respond(oauth_error(bhttp::status::bad_request, "invalid_grant",
                          "PKCE verification failed."));
      return;
    }
    if (auto r = f.get("resource");
        !r.empty() && !names_our_resource(r, c.resource, s->issuer)) {
      respond(oauth_error(bhttp::status::bad_request, "invalid_target",
                          "The resource does not match the authorization."));
      return;
    }
    c.used = true;
    rec = c;
  }
  s->touch_client(client_id, now);
  grant_request gr;
  gr.user = rec.user;
  gr.account = rec.account;
  gr.client_id = rec.client_id;
  gr.origin = grant_origin::oauth;
  gr.scopes = rec.scopes;
  gr.resource = rec.resource;
  gr.token_ttl = access_ttl;
  gr.grant_ttl = grant_cap;
  run_task(*s->web, [s, gr, digest, respond](task self) {
    self->request(s->web->actors.tokens, page_timeout, atom::issue_v, gr)
      .then(
        [s, digest, respond](const issued_token& tok) {
          auto issued = unix_seconds();
          std::string refresh;
          auto err = s->env->write([&](storage::txn& t) -> caf::error {
            refresh = put_refresh(t, tok.grant, 0, issued);
            return caf::none;
          });
          if (err) {
            respond(no_store(error_response(err)));
            return;
          }
          {
            std::lock_guard guard{s->mtx};
            if (auto i = s->codes.find(digest); i != s->codes.end())
              i->second.grant = tok.grant.id;
          }
          respond(no_store(json_response(
            bhttp::status::ok,
            token_json(tok.token.reveal(), tok.expires_at - issued, refresh,
                       tok.grant.scopes))));
        },
        [respond](const caf::error& err) {
          if (err == ec::no_such_account || err == ec::no_such_user)
            respond(oauth_error(bhttp::status::bad_request, "invalid_grant",
                                "The account of this authorization is gone."));
          else
            respond(no_store(error_response(err)));
        });
  });
}

void token_by_refresh(const server_ptr& s, const form_data& f,
                      const std::string& client_id, const responder& respond) {
  auto now = unix_seconds();
  auto digest = storage::sha256(f.get("refresh_token"));
  std::optional<scope_set> wanted;
  if (auto text = f.get("scope"); !text.empty()) {
    wanted = parse_scopes(text);
    if (!wanted || *wanted == 0) {
      respond(oauth_error(bhttp::status::bad_request, "invalid_scope",
                          "Unknown scope."));
      return;
    }
  }
  std::string code = "invalid_grant";
  std::string text = "Unknown, expired or revoked refresh token.";
  bool revoked = false;
  std::string access;
  std::string refresh;
  scope_set scopes = 0;
  auto err = s->env->write([&](storage::txn& t) -> caf::error {
    auto rec = storage::find_refresh_token(t, digest);
    if (!rec || rec->expires_at <= now)
      return caf::none;
    auto g = storage::find_grant(t, rec->user, rec->grant);
    if (!g || (g->expires_at != 0 && g->expires_at <= now)
        || !storage::find_account(t, g->user, g->account))
      return caf::none;
    if (g->client_id != client_id) {
      text = "The refresh token was issued to another client.";
      return caf::none;
    }
    if (wanted && (*wanted & ~g->scopes) != 0) {
      code = "invalid_scope";
      text = "The requested scope exceeds the grant.";
      return caf::none;
    }
    if (auto r = f.get("resource");
        !r.empty() && !names_our_resource(r, g->resource, s->issuer)) {
      code = "invalid_target";
      text = "The resource does not match the grant.";
      return caf::none;
    }
    uint64_t generation = g->refresh_generation;
    if (rec->generation + 1 == g->refresh_generation) {
      // The immediately previous token: fine within the grace window
      // after the rotation (parallel refreshes, lost responses).
      bool recent = false;
      auto prefix = storage::grant_key(g->user, g->id) + "/r/";
      t.scan(storage::table::grants, prefix,
             [&](std::string_view key, std::string_view) {
               auto cur = storage::find_refresh_token(t, key.substr(prefix.size()));
               if (cur && cur->generation == g->refresh_generation
                   && cur->issued_at + refresh_grace >= now)
                 recent = true;
               return !recent;
             });
      if (!recent) {
        storage::erase_grant(t, g->user, g->id);
        revoked = true;
        text = "The refresh token was already used; the grant is revoked.";
        return caf::none;
      }
    } else if (rec->generation != g->refresh_generation) {
      storage::erase_grant(t, g->user, g->id);
      revoked = true;
      text = "The refresh token was already used; the grant is revoked.";
      return caf::none;
    } else {
      generation = g->refresh_generation + 1;
      g->refresh_generation = generation;
      storage::put_grant(t, *g);
    }
    refresh = put_refresh(t, *g, generation, now);
    access = storage::random_token(32);
    storage::access_token_record at;
    at.user = g->user;
    at.grant = g->id;
    scopes = wanted ? *wanted : g->scopes;
    at.scopes = scopes == g->scopes ? 0 : scopes;
    at.issued_at = now;
    at.expires_at = now + access_ttl;
    if (g->expires_at != 0)
      at.expires_at = std::min(at.expires_at, g->expires_at);
    storage::put_access_token(t, storage::sha256(access), at);
    return caf::none;
  });
  if (revoked)
    storage::note_grants_changed();
  if (err) {
    respond(no_store(error_response(err)));
    return;
  }
  if (access.empty()) {
    respond(oauth_error(bhttp::status::bad_request, code, text));
    return;
  }
  s->touch_client(client_id, now);
  respond(no_store(json_response(bhttp::status::ok,
                                 token_json(access, access_ttl, refresh,
                                            scopes))));
}

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
  if (!s->find_client(client_id)) {
    respond(oauth_error(bhttp::status::unauthorized, "invalid_client",
                        "Unknown client; register again."));
    return;
  }
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
  auto client_id = f.get("client_id");
  auto digest = storage::sha256(token);
  bool changed = false;
  auto err = s->env->write([&](storage::txn& t) -> caf::error {
    if (auto rt = storage::find_refresh_token(t, digest)) {
      auto g = storage::find_grant(t, rt->user, rt->grant);
      if (g && (client_id.empty() || g->client_id == client_id))
        changed = storage::erase_grant(t, g->user, g->id);
      return caf::none;
    }
    if (auto at = storage::find_access_token(t, digest)) {
      auto g = storage::find_grant(t, at->user, at->grant);
      if (!g || client_id.empty() || g->client_id == client_id)
        changed = storage::erase_access_token(t, digest);
    }
    return caf::none;
  });
  if (changed)
    storage::note_grants_changed();
  if (err) {
    auto res = oauth_error(bhttp::status::service_unavailable,
                           "temporarily_unavailable", "Try again.");
    res.set(bhttp::field::retry_after, "5");
    respond(std::move(res));
    return;
  }
  respond(with_cors(no_store(json_response(bhttp::status::ok, "{}"))));
}

} // namespace

void add_oauth_routes(router& r, const config& cfg, const endpoints& eps,
                      std::shared_ptr<storage::environment> env) {
  auto s = std::make_shared<oauth_server>();
  s->web = make_site(cfg, eps);
  s->env = std::move(env);
  auto mcp = mcp_settings::from(cfg);
  s->issuer = mcp.base_url;
  s->resource = mcp.resource();
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
