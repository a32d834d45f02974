// SPDX-License-Identifier: Apache-2.0
#include "postern/http/responses.hpp"

#include "postern/error.hpp"
#include "postern/log.hpp"

#include <caf/sec.hpp>

#include <algorithm>
#include <cstdlib>

namespace postern::http {

std::string json_quote(std::string_view text) {
  std::string result = "\"";
  append_json_escaped(result, text);
  result += '"';
  return result;
}

response_type json_response(bhttp::status status, std::string body) {
  response_type response{status, 11};
  response.set(bhttp::field::content_type, "application/json");
  response.body() = std::move(body);
  response.prepare_payload();
  return response;
}

response_type json_error(bhttp::status status, std::string_view code,
                         std::string_view description) {
  std::string body = "{\"error\":" + json_quote(code)
                     + ",\"error_description\":" + json_quote(description)
                     + "}";
  return json_response(status, std::move(body));
}

bhttp::status to_status(const caf::error& err) {
  if (err == caf::sec::request_timeout
      || err == caf::sec::request_receiver_down)
    return bhttp::status::service_unavailable;
  if (err.category() != caf::atom("postern"))
    return bhttp::status::internal_server_error;
  switch (static_cast<ec>(err.code())) {
    case ec::invalid_request:
    case ec::invalid_argument:
    case ec::invalid_grant:
    case ec::invalid_scope:
    case ec::invalid_target:
      return bhttp::status::bad_request;
    case ec::invalid_credentials:
    case ec::invalid_token:
    case ec::invalid_client:
    case ec::no_such_session:
      return bhttp::status::unauthorized;
    case ec::forbidden:
      return bhttp::status::forbidden;
    case ec::no_such_user:
    case ec::no_such_account:
    case ec::no_such_folder:
    case ec::no_such_message:
    case ec::no_such_part:
      return bhttp::status::not_found;
    case ec::already_exists:
      return bhttp::status::conflict;
    case ec::too_large:
      return bhttp::status::payload_too_large;
    case ec::too_busy:
    case ec::send_rate_limited:
      return bhttp::status::too_many_requests;
    case ec::shutting_down:
      return bhttp::status::service_unavailable;
    default:
      return bhttp::status::internal_server_error;
  }
}

bool is_server_fault(const caf::error& err) {
  return bhttp::to_status_class(to_status(err))
         == bhttp::status_class::server_error;
}

response_type error_response(const caf::error& err) {
  auto status = to_status(err);
  if (status == bhttp::status::service_unavailable) {
    auto stopping = err == ec::shutting_down
                    || err == caf::sec::request_receiver_down;
    return json_error(status, "temporarily_unavailable",
                      stopping ? "The server is shutting down; try again "
                                 "shortly."
                               : "The server took too long to answer; try "
                                 "again.");
  }
  if (is_server_fault(err)) {
    POSTERN_ERROR("request failed: {}", render(err));
    return json_error(status, "server_error",
                      "The server could not complete this request.");
  }
  return json_error(status, to_string(static_cast<ec>(err.code())),
                    describe(err));
}

void add_standard_headers(response_type& response) {
  response.set(bhttp::field::server, "Postern");
  response.set("X-Content-Type-Options", "nosniff");
  response.set("X-Frame-Options", "DENY");
  if (response.find("Referrer-Policy") == response.end())
    response.set("Referrer-Policy", "no-referrer");
  if (response.find(bhttp::field::cache_control) == response.end())
    response.set(bhttp::field::cache_control, "no-store");
  if (response.find("Content-Security-Policy") == response.end())
    response.set("Content-Security-Policy",
                 "default-src 'none'; frame-ancestors 'none'");
}

namespace {

/// Internal: never sent (take_hold removes it before the write).
constexpr std::string_view hold_field = "X-Postern-Hold-Ms";
constexpr std::chrono::milliseconds longest_hold{2000};

} // namespace

void hold_response(response_type& response, std::chrono::milliseconds delay) {
  auto ms = std::min(delay, longest_hold).count();
  if (ms > 0)
    response.set(boost::beast::string_view{hold_field.data(),
                                           hold_field.size()},
                 std::to_string(ms));
}

std::chrono::milliseconds take_hold(response_type& response) {
  auto name = boost::beast::string_view{hold_field.data(), hold_field.size()};
  auto i = response.find(name);
  if (i == response.end())
    return std::chrono::milliseconds{0};
  auto ms = std::strtol(std::string{i->value()}.c_str(), nullptr, 10);
  response.erase(name);
  return std::min(std::chrono::milliseconds{std::max(0L, ms)}, longest_hold);
}

} // namespace postern::http
