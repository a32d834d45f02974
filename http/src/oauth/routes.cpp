// SPDX-License-Identifier: Apache-2.0
// Every OAuth route, in one place; the endpoints live in one file each
// (metadata, register, authorize, token, revoke).
#include "postern/http/mcp_endpoint.hpp"
#include "postern/http/oauth.hpp"
#include "postern/log.hpp"
#include "shared.hpp"

namespace postern::http {

void add_oauth_routes(router& r, const config& cfg, const endpoints& eps) {
  using namespace oauth_routes;
  using verb = bhttp::verb;
  auto s = std::make_shared<oauth_server>();
  s->web = make_site(cfg, eps);
  auto mcp = mcp_settings::from(cfg);
  s->issuer = mcp.base_url;
  s->resource = mcp.resource();
  s->documents = std::make_unique<client_metadata_fetcher>(
    client_metadata_fetcher::options{}, eps.documents);
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
