// SPDX-License-Identifier: Apache-2.0
// Token revocation (RFC 7009).
#include "postern/error.hpp"
#include "postern/log.hpp"
#include "shared.hpp"

namespace postern::http::oauth_routes {

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

} // namespace postern::http::oauth_routes
