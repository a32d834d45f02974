// SPDX-License-Identifier: Apache-2.0
#include "postern/http/routes.hpp"

#include "postern/http/bridge.hpp"
#include "postern/http/dashboard.hpp"
#include "postern/http/mcp_endpoint.hpp"
#include "postern/http/oauth.hpp"
#include "postern/http/responses.hpp"
#include "postern/log.hpp"
#include "postern/node_status.hpp"
#include "postern/ui/assets.hpp"

namespace postern::http {

void serve_static(const request& req, const responder& respond) {
  auto path = req.path();
  auto name = path.substr(1); // "static/..."
  auto found = name.find("..") == std::string_view::npos ? ui::find_asset(name)
                                                         : std::nullopt;
  if (!found || found->path.rfind("static/", 0) != 0) {
    respond(json_error(bhttp::status::not_found, "not_found",
                       "No such file: " + std::string{path}));
    return;
  }
  response_type response{bhttp::status::ok, 11};
  response.set(bhttp::field::content_type, found->content_type);
  response.set(bhttp::field::cache_control, "public, max-age=86400");
  response.body() = std::string{found->content};
  response.prepare_payload();
  respond(std::move(response));
}

void add_routes(router& r, const config& cfg, endpoints eps) {
  if (!eps.documents) {
    guarded_fetcher::options fo;
    fo.allow_loopback = cfg.client_metadata_allow_loopback;
    if (fo.allow_loopback)
      POSTERN_WARN("CLIENT_METADATA_ALLOW_LOOPBACK is on: client metadata "
                   "and mail autoconfig documents may come from this "
                   "machine (tests only)");
    eps.documents = std::make_shared<guarded_fetcher>(fo);
  }
  // Liveness and readiness: answered by the NODE through the actor bridge,
  // so a stuck actor system shows up as a failing health check.
  r.add(bhttp::verb::get, "/healthz",
        [eps](const request&, const responder& respond) {
          ask(
            *eps.sys, eps.actors.node, respond,
            [](node_status& st) {
              return json_response(bhttp::status::ok,
                                   "{\"status\":\"ok\",\"version\":"
                                     + json_quote(st.version)
                                     + ",\"uptime_seconds\":"
                                     + std::to_string(st.uptime_seconds) + "}");
            },
            atom::status_v);
        });
  // MCP over Streamable HTTP at exactly /mcp, and the download links its
  // get_attachment makes.
  mcp_actors mcp{eps.actors.tokens, eps.actors.mail, eps.actors.directory,
                 eps.actors.outbox, eps.actors.accounts};
  auto settings = mcp_settings::from(cfg);
  add_mcp_routes(r, std::make_shared<mcp_endpoint>(*eps.sys, mcp, settings));
  add_file_routes(r, *eps.sys, mcp, settings);
  r.add_prefix(bhttp::verb::get, "/static/", serve_static);
  // The web dashboard (HTML pages, sessions, CSRF): dashboard.cpp.
  add_dashboard_routes(r, cfg, eps);
  // The OAuth 2.1 authorization server: oauth.cpp.
  add_oauth_routes(r, cfg, eps);
  r.add(bhttp::verb::get, "/robots.txt",
        [](const request&, const responder& respond) {
          response_type response{bhttp::status::ok, 11};
          response.set(bhttp::field::content_type, "text/plain; charset=utf-8");
          response.body() = "User-agent: *\nDisallow: /\n";
          response.prepare_payload();
          respond(std::move(response));
        });
}

} // namespace postern::http
