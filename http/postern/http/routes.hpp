// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "postern/actors/node.hpp"
#include "postern/config.hpp"
#include "postern/http/router.hpp"

#include <caf/actor_system.hpp>

namespace postern::http {

/// The actors the HTTP endpoints talk to.
struct endpoints {
  caf::actor_system* sys = nullptr;
  components actors;
};

/// Registers every route of the server.
void add_routes(router& r, const config& cfg, endpoints eps);

/// GET /static/<file>: an embedded asset, cacheable for a day.
void serve_static(const request& req, const responder& respond);

} // namespace postern::http
