// SPDX-License-Identifier: Apache-2.0
// Helpers the OAuth endpoints share, and the client look-up.
#include "shared.hpp"

#include "postern/error.hpp"
#include "postern/oauth/uri.hpp"

#include <algorithm>

namespace postern::http::oauth_routes {

/// True for the one resource of this server: BASE_URL/mcp, or BASE_URL
/// itself (Claude sometimes sends the origin), after canonicalization.
bool names_our_resource(std::string_view sent, std::string_view resource,
                        std::string_view issuer) {
  auto c = canonical_resource(sent);
  return c == canonical_resource(resource) || c == canonical_resource(issuer);
}

std::string
with_params(std::string_view base,
            const std::vector<std::pair<std::string, std::string>>& params) {
  std::string out{base};
  char sep = out.find('?') == std::string::npos ? '?' : '&';
  for (auto& [k, v] : params) {
    out += sep;
    out += k;
    out += '=';
    out += url_encode(v);
    sep = '&';
  }
  return out;
}

/// A repeated OAuth parameter (OAuth 2.1 §3.1: must be rejected).
std::string repeated_param(const form_data& f) {
  std::vector<std::string_view> seen;
  for (auto& [k, v] : f.fields()) {
    if (std::find(seen.begin(), seen.end(), k) != seen.end() && k != "scope")
      return k;
    seen.push_back(k);
  }
  return {};
}

response_type no_store(response_type res) {
  res.set(bhttp::field::cache_control, "no-store");
  res.set(bhttp::field::pragma, "no-cache");
  return res;
}

response_type oauth_error(bhttp::status status, std::string_view code,
                          std::string_view description) {
  return no_store(json_error(status, code, description));
}

response_type with_cors(response_type res) {
  res.set(bhttp::field::access_control_allow_origin, "*");
  return res;
}

namespace {

/// Sentence for a client id that is neither registered nor a document URL.
constexpr const char* unknown_client_text
  = "This application is not registered here (unknown client_id). Start "
    "the connection again from the application.";

} // namespace

/// Looks a client up: LMDB for registered clients, the fetcher (cache or
/// HTTPS, never blocking the caller) for metadata document URLs. Fails with
/// a sentence for the person.
void resolve_client(const server_ptr& s, const std::string& id,
                    const std::string& requester,
                    std::function<void(caf::expected<client_view>)> then) {
  if (oauth::is_metadata_client_id(id)) {
    s->documents->get(
      id, requester, [then](caf::expected<oauth::client_metadata> doc) {
        if (!doc) {
          // Too many fetches at once is ours to fix, not the client's.
          then(doc.error() == ec::too_busy
                 ? doc.error()
                 : caf::make_error(ec::invalid_client,
                                   "The application's client metadata "
                                   "document cannot be used: "
                                     + describe(doc.error())));
          return;
        }
        then(client_view{doc->client_id, doc->name, doc->redirect_uris, true});
      });
    return;
  }
  if (id.empty() || id.size() > 200) {
    then(caf::make_error(ec::invalid_client, unknown_client_text));
    return;
  }
  run_task(*s->web, [s, id, then](task self) {
    self->request(s->web->actors.tokens, page_timeout, atom::get_v, id)
      .then(
        [then](const oauth_client& c) {
          then(client_view{c.id, c.name, c.redirect_uris, false});
        },
        [then](const caf::error& err) {
          if (err == ec::invalid_client)
            then(caf::make_error(ec::invalid_client, unknown_client_text));
          else
            then(err);
        });
  });
}

} // namespace postern::http::oauth_routes
