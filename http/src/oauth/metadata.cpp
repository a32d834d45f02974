// SPDX-License-Identifier: Apache-2.0
// The authorization server's and the protected resource's metadata
// (RFC 8414, RFC 9728).
#include "shared.hpp"

namespace postern::http::oauth_routes {

namespace {

std::string scope_list_json(scope_set set) {
  std::string out = "[";
  for (auto s : all_scopes) {
    if (!has_scope(set, s))
      continue;
    if (out.size() > 1)
      out += ',';
    out += json_quote(to_string(s));
  }
  return out + "]";
}

} // namespace

response_type as_metadata(const oauth_server& s) {
  auto& i = s.issuer;
  std::string body
    = "{\"issuer\":" + json_quote(i)
      + ",\"authorization_endpoint\":" + json_quote(i + "/oauth/authorize")
      + ",\"token_endpoint\":" + json_quote(i + "/oauth/token")
      + ",\"registration_endpoint\":" + json_quote(i + "/oauth/register")
      + ",\"revocation_endpoint\":" + json_quote(i + "/oauth/revoke")
      + ",\"scopes_supported\":" + scope_list_json(every_scope)
      + ",\"response_types_supported\":[\"code\"]"
      + ",\"response_modes_supported\":[\"query\"]"
      + ",\"grant_types_supported\":[\"authorization_code\",\"refresh_token\"]"
      + ",\"code_challenge_methods_supported\":[\"S256\"]"
      + ",\"token_endpoint_auth_methods_supported\":[\"none\"]"
      + ",\"revocation_endpoint_auth_methods_supported\":[\"none\"]"
      + ",\"authorization_response_iss_parameter_supported\":true"
      + ",\"client_id_metadata_document_supported\":true}";
  auto res = json_response(bhttp::status::ok, std::move(body));
  res.set(bhttp::field::cache_control, "public, max-age=300");
  return with_cors(std::move(res));
}

response_type pr_metadata(const oauth_server& s) {
  std::string body = "{\"resource\":" + json_quote(s.resource)
                     + ",\"authorization_servers\":[" + json_quote(s.issuer)
                     + "],\"scopes_supported\":" + scope_list_json(every_scope)
                     + ",\"bearer_methods_supported\":[\"header\"]"
                     + ",\"resource_name\":\"Postern\"}";
  auto res = json_response(bhttp::status::ok, std::move(body));
  res.set(bhttp::field::cache_control, "public, max-age=300");
  return with_cors(std::move(res));
}

} // namespace postern::http::oauth_routes
