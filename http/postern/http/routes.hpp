// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "postern/actors/node.hpp"
#include "postern/config.hpp"
#include "postern/http/guarded_fetch.hpp"
#include "postern/http/router.hpp"

#include <caf/actor_system.hpp>

namespace postern::http {

/// The actors the HTTP endpoints talk to.
struct endpoints {
  caf::actor_system* sys = nullptr;
  components actors;
  /// Fetches of documents at URLs others chose (client metadata, mail
  /// autoconfig): one Asio thread for the process; add_routes makes it
  /// when not given.
  std::shared_ptr<guarded_fetcher> documents;
};

/// Registers every route of the server.
void add_routes(router& r, const config& cfg, endpoints eps);

/// GET /static/<file>: an embedded asset, cacheable for a day.
void serve_static(const request& req, const responder& respond);

} // namespace postern::http
