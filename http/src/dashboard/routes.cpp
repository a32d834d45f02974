// SPDX-License-Identifier: Apache-2.0
// Every dashboard route, in one place; the handlers live in one file per
// route group (sign_in, home, accounts, connections, activity, password).
#include "postern/http/dashboard.hpp"
#include "shared.hpp"

namespace postern::http {

void add_dashboard_routes(router& r, const config& cfg, endpoints eps) {
  using namespace dashboard;
  using verb = bhttp::verb;
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
  // Before the /accounts/ prefixes: routes match in the order added.
  r.add(verb::post, "/accounts/oauth/start", bind(post_signin_start));
  r.add(verb::get, "/accounts/oauth/callback", bind(get_signin_callback));
  r.add_prefix(verb::get, "/accounts/", bind(account_get));
  r.add_prefix(verb::post, "/accounts/", bind(account_post_route));
  r.add_prefix(verb::post, "/tokens/", bind(post_revoke));
  r.add(verb::get, "/outbox", bind(get_outbox));
  r.add_prefix(verb::get, "/outbox/", bind(get_outbox));
  r.add_prefix(verb::post, "/outbox/", bind(post_outbox));
  r.add(verb::get, "/activity", bind(get_activity));
  r.add(verb::get, "/change-password", bind(get_password));
  r.add(verb::post, "/change-password", bind(post_password));
}

} // namespace postern::http
