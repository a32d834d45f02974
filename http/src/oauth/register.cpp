// SPDX-License-Identifier: Apache-2.0
// Dynamic client registration (RFC 7591).
#include "shared.hpp"

#include "postern/clock.hpp"
#include "postern/error.hpp"
#include "postern/log.hpp"
#include "postern/mcp/bounded_parse.hpp"
#include "postern/mcp/json.hpp"
#include "postern/oauth/uri.hpp"

#include <rapidjson/document.h>

#include <algorithm>

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
  w.key("grant_types").begin_array().string("authorization_code").string(
    "refresh_token");
  w.end_array();
  w.key("response_types").begin_array().string("code").end_array();
  w.key("token_endpoint_auth_method").string("none");
  w.end_object();
  return with_cors(no_store(json_response(bhttp::status::created, w.str())));
}

} // namespace

} // namespace postern::http::oauth_routes
