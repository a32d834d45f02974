// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <caf/expected.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace postern::oauth {

/// A client described by an OAuth Client ID Metadata Document (the MCP
/// authorization spec's CIMD): its client id is the HTTPS URL of the
/// document, and the document says who it is and where it may redirect.
struct client_metadata {
  std::string client_id;
  /// `client_name`, else the host of the first redirect URI.
  std::string name;
  std::vector<std::string> redirect_uris;
};

/// Parses and checks a metadata document fetched from `url`: a JSON object
/// whose `client_id` is exactly `url`, with 1 to 10 acceptable
/// `redirect_uris` and, if present, `token_endpoint_auth_method` "none"
/// (public clients only). Fails with ec::invalid_argument and a sentence.
caf::expected<client_metadata> parse_client_metadata(std::string_view url,
                                                     std::string_view body);

/// Parses and checks a dynamic client registration request (RFC 7591 §2),
/// under the same rules as a metadata document (no client_id: the server
/// assigns one), and stricter ones a registration states itself:
/// `grant_types` only authorization_code and refresh_token, `response_types`
/// only code, a string `client_name`. Fails with ec::invalid_argument and a
/// sentence; the error names the field `redirect_uris` when they are at
/// fault (RFC 7591's invalid_redirect_uri), none otherwise
/// (invalid_client_metadata).
caf::expected<client_metadata> parse_registration(std::string_view body);

} // namespace postern::oauth
