// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "postern/config.hpp"
#include "postern/http/router.hpp"
#include "postern/http/routes.hpp"

namespace postern::http {

/// Registers the web dashboard: /, /signup, /login, /logout, /dashboard,
/// /accounts/add, /accounts/<id>/edit, /accounts/<id>/delete,
/// /tokens/<id>/revoke, /activity and /change-password. Every form carries
/// a CSRF token; the pages share the layout and helpers of web.hpp.
void add_dashboard_routes(router& r, const config& cfg, endpoints eps);

} // namespace postern::http
