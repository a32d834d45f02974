// SPDX-License-Identifier: Apache-2.0
// Dynamic client registration (RFC 7591).
#include "postern/clock.hpp"
#include "postern/error.hpp"
#include "postern/log.hpp"
#include "postern/mcp/json.hpp"
#include "postern/oauth/client_metadata.hpp"
#include "shared.hpp"

namespace postern::http::oauth_routes {

namespace {

response_type reg_error(std::string_view code, std::string_view text) {
  return with_cors(oauth_error(bhttp::status::bad_request, code, text));
}

response_type registration_response(const oauth_client& c);

} // namespace

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
  auto metadata = oauth::parse_registration(body);
  if (!metadata) {
    auto code = error_field(metadata.error()) == "redirect_uris"
                  ? "invalid_redirect_uri"
                  : "invalid_client_metadata";
    respond(reg_error(code, describe(metadata.error())));
    return;
  }
  oauth_client c;
  c.name = std::move(metadata->name);
  c.redirect_uris = std::move(metadata->redirect_uris);
  run_task(*s->web, [s, c = std::move(c), respond](task self) {
    self->request(s->web->actors.tokens, page_timeout, atom::put_v, c)
      .then(
        [respond](const oauth_client& registered) {
          respond(registration_response(registered));
        },
        [respond](const caf::error& err) {
          if (err != ec::too_busy)
            POSTERN_WARN("oauth: registration failed: {}", render(err));
          respond(with_cors(oauth_error(
            bhttp::status::service_unavailable, "temporarily_unavailable",
            err == ec::too_busy ? describe(err) : "Try again in a moment.")));
        });
  });
}

namespace {

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
  w.key("grant_types")
    .begin_array()
    .string("authorization_code")
    .string("refresh_token");
  w.end_array();
  w.key("response_types").begin_array().string("code").end_array();
  w.key("token_endpoint_auth_method").string("none");
  w.end_object();
  return with_cors(no_store(json_response(bhttp::status::created, w.str())));
}

} // namespace

} // namespace postern::http::oauth_routes
