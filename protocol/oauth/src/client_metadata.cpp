// SPDX-License-Identifier: Apache-2.0
// Client metadata (RFC 7591 §2) read the same way whether it arrives as a
// registration request or as a Client ID Metadata Document.
#include "postern/oauth/client_metadata.hpp"

#include "postern/error.hpp"
#include "postern/mcp/bounded_parse.hpp"
#include "postern/oauth/uri.hpp"

#include <rapidjson/document.h>

#include <algorithm>

namespace postern::oauth {

namespace {

caf::error bad(std::string sentence) {
  return caf::make_error(ec::invalid_argument, std::move(sentence));
}

caf::error bad_redirects(std::string sentence) {
  return make_field_error(ec::invalid_argument, "redirect_uris",
                          std::move(sentence));
}

std::string_view text_of(const rapidjson::Value& v) {
  return {v.GetString(), v.GetStringLength()};
}

/// Whether `d[name]`, if present, is an array of strings out of `allowed`.
bool only_listed(const rapidjson::Value& d, const char* name,
                 std::initializer_list<std::string_view> allowed) {
  auto i = d.FindMember(name);
  if (i == d.MemberEnd())
    return true;
  if (!i->value.IsArray())
    return false;
  for (auto& x : i->value.GetArray())
    if (!x.IsString()
        || std::find(allowed.begin(), allowed.end(), text_of(x))
             == allowed.end())
      return false;
  return true;
}

/// The checks both ways share, on a parsed object; `subject` starts the
/// sentences ("The client metadata document").
caf::error read_common(const rapidjson::Value& d, const std::string& subject,
                       client_metadata& out) {
  auto uris = d.FindMember("redirect_uris");
  if (uris == d.MemberEnd() || !uris->value.IsArray() || uris->value.Empty()
      || uris->value.Size() > 10)
    return bad_redirects(subject + " must list 1 to 10 redirect_uris.");
  for (auto& u : uris->value.GetArray()) {
    if (!u.IsString())
      return bad_redirects(subject + "'s redirect_uris must be strings.");
    std::string uri{text_of(u)};
    if (auto why = check_redirect_uri(uri); !why.empty())
      return bad_redirects(subject + " is not acceptable: " + why + ".");
    out.redirect_uris.push_back(std::move(uri));
  }
  auto method = d.FindMember("token_endpoint_auth_method");
  if (method != d.MemberEnd()
      && (!method->value.IsString() || text_of(method->value) != "none"))
    return bad("Only public clients (token_endpoint_auth_method \"none\") "
               "are supported.");
  auto name = d.FindMember("client_name");
  if (name != d.MemberEnd() && name->value.IsString())
    out.name = clean_client_name(text_of(name->value));
  return caf::none;
}

} // namespace

caf::expected<client_metadata> parse_client_metadata(std::string_view url,
                                                     std::string_view body) {
  rapidjson::Document d;
  if (!mcp::parse_bounded(d, body) || !d.IsObject())
    return bad("The client metadata document is not a JSON object.");
  client_metadata out;
  auto id = d.FindMember("client_id");
  if (id == d.MemberEnd() || !id->value.IsString() || text_of(id->value) != url)
    return bad("The client metadata document's client_id is not exactly "
               "the URL it was fetched from.");
  out.client_id = std::string{url};
  if (auto err = read_common(d, "The client metadata document", out))
    return err;
  if (out.name.empty())
    out.name = host_of(out.redirect_uris.front());
  return out;
}

caf::expected<client_metadata> parse_registration(std::string_view body) {
  rapidjson::Document d;
  // Iterative and depth-limited: no recursion on hostile nesting.
  if (!mcp::parse_bounded(d, body) || !d.IsObject())
    return bad("The body must be a JSON object.");
  client_metadata out;
  if (auto err = read_common(d, "The registration", out))
    return err;
  if (!only_listed(d, "grant_types", {"authorization_code", "refresh_token"}))
    return bad("Only the authorization_code and refresh_token grant types "
               "are supported.");
  if (!only_listed(d, "response_types", {"code"}))
    return bad("Only the code response type is supported.");
  auto name = d.FindMember("client_name");
  if (name != d.MemberEnd() && !name->value.IsString())
    return bad("client_name must be a string.");
  if (out.name.empty())
    out.name = host_of(out.redirect_uris.front());
  return out;
}

} // namespace postern::oauth
