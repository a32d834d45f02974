// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "postern/config.hpp"
#include "postern/http/router.hpp"
#include "postern/http/routes.hpp"

namespace postern::http {

/// GET /metrics in Prometheus text format: open to loopback-only servers;
/// otherwise only with `Authorization: Bearer METRICS_TOKEN`, and off (404)
/// without that token.
void add_metrics_route(router& r, const config& cfg, endpoints eps);

} // namespace postern::http
