// SPDX-License-Identifier: Apache-2.0
#include "postern/http/metrics_route.hpp"

#include "postern/http/bridge.hpp"
#include "postern/http/metrics.hpp"
#include "postern/http/responses.hpp"
#include "postern/secret.hpp"

namespace postern::http {

void add_metrics_route(router& r, const config& cfg, endpoints eps) {
  // Loopback is no protection: a reverse proxy on the same host forwards
  // everyone. Open only when the operator says so.
  auto open = cfg.metrics_open;
  auto token = cfg.metrics_token;
  r.add(
    bhttp::verb::get, "/metrics",
    [eps, open, token](const request& req, const responder& respond) {
      if (!open) {
        if (!token) {
          respond(json_error(bhttp::status::not_found, "not_found",
                             "/metrics is off: set METRICS_TOKEN (or "
                             "METRICS_OPEN=1 to serve it to anyone)"));
          return;
        }
        auto auth = req.raw[bhttp::field::authorization];
        std::string_view given{auth.data(), auth.size()};
        constexpr std::string_view prefix = "Bearer ";
        if (given.substr(0, prefix.size()) != prefix
            || !constant_time_equal(given.substr(prefix.size()),
                                    token->reveal())) {
          auto res = json_error(bhttp::status::unauthorized, "invalid_token",
                                "/metrics needs Authorization: Bearer "
                                "METRICS_TOKEN");
          res.set(bhttp::field::www_authenticate, "Bearer");
          respond(std::move(res));
          return;
        }
      }
      ask(
        *eps.sys, eps.actors.mail, respond,
        [](mail_status& st) {
          std::map<std::string, double> gauges{
            {"postern_imap_connections", static_cast<double>(st.connections)},
            {"postern_mail_accounts_active", static_cast<double>(st.accounts)},
            {"postern_message_cache_hits", static_cast<double>(st.cache_hits)},
            {"postern_message_cache_misses",
             static_cast<double>(st.cache_misses)},
            {"postern_message_cache_bytes",
             static_cast<double>(st.cache_bytes)},
          };
          response_type res{bhttp::status::ok, 11};
          res.set(bhttp::field::content_type,
                  "text/plain; version=0.0.4; charset=utf-8");
          res.body() = metrics::instance().render(gauges);
          res.prepare_payload();
          return res;
        },
        atom::status_v);
    });
}

} // namespace postern::http
