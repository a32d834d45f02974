// SPDX-License-Identifier: Apache-2.0
// The token endpoint: codes and refresh tokens for access tokens.
#include "postern/clock.hpp"
#include "postern/error.hpp"
#include "postern/log.hpp"
#include "postern/oauth/uri.hpp"
#include "postern/storage/crypto.hpp"
#include "shared.hpp"

#include <algorithm>

namespace postern::http::oauth_routes {

namespace {

std::string token_json(const token_pair& tok) {
  return "{\"access_token\":" + json_quote(tok.access_token.reveal())
         + ",\"token_type\":\"Bearer\",\"expires_in\":"
         + std::to_string(std::max<int64_t>(0, tok.expires_at - unix_seconds()))
         + ",\"refresh_token\":" + json_quote(tok.refresh_token.reveal())
         + ",\"scope\":" + json_quote(format_scopes(tok.scopes)) + "}";
}

/// The token endpoint's answer to a TOKEN AUTHORITY error: the client's
/// mistakes (to_status() 400) with their RFC 6749 code and sentence, the
/// server's trouble as 503 temporarily_unavailable with Retry-After.
response_type token_error(const caf::error& err) {
  if (to_status(err) == bhttp::status::bad_request) {
    auto code = static_cast<ec>(err.code());
    auto name = code == ec::invalid_argument ? std::string{"invalid_request"}
                                             : to_string(code);
    return oauth_error(bhttp::status::bad_request, name, describe(err));
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

} // namespace

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

namespace {

void token_for_client(const server_ptr& s, const form_data& f,
                      const std::string& client_id, const responder& respond) {
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

} // namespace

} // namespace postern::http::oauth_routes
