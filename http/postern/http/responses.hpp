// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "postern/http/message.hpp"

#include <caf/error.hpp>

#include <chrono>
#include <string>
#include <string_view>

namespace postern::http {

/// A response with `body` as JSON.
response_type json_response(bhttp::status status, std::string body);

/// A JSON error in the OAuth style used across Postern's HTTP API:
/// {"error": code, "error_description": sentence}.
response_type json_error(bhttp::status status, std::string_view code,
                         std::string_view description);

/// The one mapping of errors to HTTP statuses, behind every error answer
/// (JSON here, pages in web.hpp, OAuth's token errors): what the caller got
/// wrong is 4xx (400 rules, 401 credentials and tokens, 403 policy, 404
/// unknown or not the caller's, 409 taken, 413 too large, 429 limits), a
/// slow or stopping server 503, anything else 500.
bhttp::status to_status(const caf::error& err);

/// Whether an error is the server's (5xx): logged, and answered with a
/// generic sentence instead of its own.
bool is_server_fault(const caf::error& err);

/// Maps an actor error to a JSON error response with to_status(): the
/// caller's errors carry their sentence and their code's name, the server's
/// a generic sentence (503 temporarily_unavailable, 500 server_error). The
/// text never carries secrets: error contexts hold ids only.
response_type error_response(const caf::error& err);

/// Adds the headers every response carries (nosniff, no framing, no
/// referrer, no caching, a strict CSP, Server); a handler may set its own
/// Referrer-Policy, Cache-Control and Content-Security-Policy.
void add_standard_headers(response_type& response);

/// Asks the server to hold `response` for `delay` (at most 2 s) before
/// writing it, on a timer: no thread waits. For refusals of clients that
/// ignore Retry-After, so a tight loop of guesses gets about one answer per
/// delay instead of thousands per second.
void hold_response(response_type& response, std::chrono::milliseconds delay);

/// The delay hold_response() asked for (0 if none), removed from the
/// response; used by the server just before it writes.
std::chrono::milliseconds take_hold(response_type& response);

/// `text` as a quoted JSON string; invalid UTF-8 becomes U+FFFD.
std::string json_quote(std::string_view text);

} // namespace postern::http
