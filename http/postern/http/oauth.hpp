// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "postern/config.hpp"
#include "postern/http/router.hpp"
#include "postern/http/routes.hpp"

#include <memory>

namespace postern::http {

/// Registers the OAuth 2.1 authorization server: metadata (RFC 8414, RFC
/// 9728), dynamic client registration (RFC 7591) at /oauth/register and
/// /register, /oauth/authorize (login, consent), /oauth/token (PKCE S256,
/// rotating refresh tokens with reuse detection) and /oauth/revoke (RFC
/// 7009), and client ID metadata documents. Clients, codes and tokens
/// belong to the TOKEN AUTHORITY; pending consent requests and registration
/// rate limits live here, in memory.
void add_oauth_routes(router& r, const config& cfg, const endpoints& eps);

} // namespace postern::http
