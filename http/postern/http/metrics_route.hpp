// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "postern/config.hpp"
#include "postern/http/router.hpp"
#include "postern/http/routes.hpp"

namespace postern::http {

/// GET /metrics in Prometheus text format: only with `Authorization: Bearer
/// METRICS_TOKEN` (compared in constant time), off (404) without that
/// token, and open to anyone only with METRICS_OPEN=1 (whatever BIND is:
/// a proxy on the same host makes loopback public).
void add_metrics_route(router& r, const config& cfg, endpoints eps);

} // namespace postern::http
