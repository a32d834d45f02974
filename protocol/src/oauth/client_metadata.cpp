// SPDX-License-Identifier: Apache-2.0
#include "postern/oauth/client_metadata.hpp"

#include "postern/error.hpp"
#include "postern/mcp/bounded_parse.hpp"
#include "postern/oauth/uri.hpp"

#include <rapidjson/document.h>

namespace postern::oauth {

namespace {

caf::error bad(std::string sentence) {
  return caf::make_error(ec::invalid_argument, std::move(sentence));
}

} // namespace

caf::expected<client_metadata> parse_client_metadata(std::string_view url,
                                                     std::string_view body) {
  rapidjson::Document d;
  if (!mcp::parse_bounded(d, body) || !d.IsObject())
    return bad("The client metadata document is not a JSON object.");
  client_metadata out;
  if (!d.HasMember("client_id") || !d["client_id"].IsString()
      || std::string_view{d["client_id"].GetString(),
                          d["client_id"].GetStringLength()}
           != url)
    return bad("The client metadata document's client_id is not exactly "
               "the URL it was fetched from.");
  out.client_id = std::string{url};
  if (!d.HasMember("redirect_uris") || !d["redirect_uris"].IsArray()
      || d["redirect_uris"].Empty() || d["redirect_uris"].Size() > 10)
    return bad("The client metadata document must list 1 to 10 "
               "redirect_uris.");
  for (auto& u : d["redirect_uris"].GetArray()) {
    if (!u.IsString())
      return bad("The client metadata document's redirect_uris must be "
                 "strings.");
    std::string uri{u.GetString(), u.GetStringLength()};
    if (auto why = check_redirect_uri(uri); !why.empty())
      return bad("The client metadata document is not acceptable: " + why
                 + ".");
    out.redirect_uris.push_back(std::move(uri));
  }
  if (d.HasMember("token_endpoint_auth_method")
      && (!d["token_endpoint_auth_method"].IsString()
          || std::string_view{d["token_endpoint_auth_method"].GetString()}
               != "none"))
    return bad("Only public clients (token_endpoint_auth_method \"none\") "
               "are supported.");
  if (d.HasMember("client_name") && d["client_name"].IsString())
    out.name = clean_client_name(
      {d["client_name"].GetString(), d["client_name"].GetStringLength()});
  if (out.name.empty())
    out.name = host_of(out.redirect_uris.front());
  return out;
}

} // namespace postern::oauth
