// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "postern/http/message.hpp"

#include <boost/beast/http/verb.hpp>

#include <functional>
#include <string>
#include <vector>

namespace postern::http {

/// Answers one request by calling the responder, now or later (handlers that
/// ask an actor answer from the actor's continuation).
using handler = std::function<void(const request&, const responder&)>;

/// Maps method + path to a handler. Handlers are plain functions of the
/// request, so they are tested without sockets.
class router {
public:
  /// Routes exactly `path`.
  void add(bhttp::verb method, std::string path, handler h);

  /// Routes every path that starts with `prefix` (e.g. "/static/").
  void add_prefix(bhttp::verb method, std::string prefix, handler h);

  /// Calls the matching handler; answers 404 for unknown paths and 405
  /// (with Allow) for known paths with another method.
  void dispatch(const request& req, const responder& respond) const;

  /// The pattern of the route serving `path` ("/static/", "/mcp"), or
  /// "other": a bounded label for metrics, never the raw path.
  std::string_view label(std::string_view path) const;

private:
  struct route {
    bhttp::verb method;
    std::string path;
    bool prefix;
    handler h;
  };

  bool matches(const route& r, std::string_view path) const;

  std::vector<route> routes_;
};

} // namespace postern::http
