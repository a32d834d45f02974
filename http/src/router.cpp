// SPDX-License-Identifier: Apache-2.0
#include "postern/http/router.hpp"

#include "postern/http/responses.hpp"

#include <algorithm>

namespace postern::http {

void router::add(bhttp::verb method, std::string path, handler h) {
  routes_.push_back(route{method, std::move(path), false, std::move(h)});
}

void router::add_prefix(bhttp::verb method, std::string prefix, handler h) {
  routes_.push_back(route{method, std::move(prefix), true, std::move(h)});
}

bool router::matches(const route& r, std::string_view path) const {
  if (r.prefix)
    return path.size() >= r.path.size()
           && path.substr(0, r.path.size()) == r.path;
  return path == r.path;
}

std::string_view router::label(std::string_view path) const {
  for (auto& r : routes_)
    if (matches(r, path))
      return r.path;
  return "other";
}

void router::dispatch(const request& req, const responder& respond) const {
  auto path = req.path();
  auto method = req.raw.method();
  // HEAD is answered like GET; the session drops the body.
  auto lookup = method == bhttp::verb::head ? bhttp::verb::get : method;
  std::string allow;
  for (auto& r : routes_) {
    if (!matches(r, path))
      continue;
    if (r.method == lookup) {
      r.h(req, respond);
      return;
    }
    if (!allow.empty())
      allow += ", ";
    allow += std::string{bhttp::to_string(r.method)};
  }
  if (!allow.empty()) {
    auto response
      = json_error(bhttp::status::method_not_allowed, "method_not_allowed",
                   std::string{bhttp::to_string(method)} + " is not allowed on "
                     + std::string{path} + "; allowed: " + allow);
    response.set(bhttp::field::allow, allow);
    respond(std::move(response));
    return;
  }
  respond(json_error(bhttp::status::not_found, "not_found",
                     "No such endpoint: " + std::string{path}));
}

} // namespace postern::http
