// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "postern/account.hpp"
#include "postern/ids.hpp"
#include "postern/secret.hpp"
#include "postern/send_rules.hpp"

#include <caf/meta/type_name.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace postern {

// -- scopes -------------------------------------------------------------------

/// What a grant allows, one bit per scope of the TypeScript original. The
/// bit values are internal: records store the scope names, so bits may be
/// renumbered without a migration.
enum class scope : uint32_t {
  /// mail:folders — list_folders.
  folders = 1u << 0,
  /// mail:read — list_messages, read_message.
  read = 1u << 1,
  /// mail:search — search_messages.
  search = 1u << 2,
  /// mail:modify — move_message, flag_message.
  modify = 1u << 3,
  /// mail:send — send_mail, reply_message, forward_message.
  send = 1u << 4,
  /// mail:draft — save_draft: write drafts, never send them.
  draft = 1u << 5,
};

/// A set of scopes (bitwise OR of `scope` values).
using scope_set = uint32_t;

/// Every scope, in the order of the original's metadata document (then
/// Postern's own additions).
inline constexpr scope all_scopes[] = {scope::folders, scope::read,
                                       scope::search,  scope::modify,
                                       scope::send,    scope::draft};

/// The set holding every scope.
inline constexpr scope_set every_scope = 0x3F;

constexpr scope_set bit(scope s) {
  return static_cast<scope_set>(s);
}

constexpr bool has_scope(scope_set set, scope s) {
  return (set & bit(s)) != 0;
}

/// "mail:folders", "mail:read", ...
std::string_view to_string(scope s);

/// Parses one scope name; nullopt for unknown names.
std::optional<scope> parse_scope(std::string_view name);

/// Parses a list of scope names separated by spaces or commas (the OAuth
/// `scope` syntax, plus commas for people typing on a command line). On an
/// unknown name returns nullopt and stores it in `unknown` if given.
std::optional<scope_set> parse_scopes(std::string_view text,
                                      std::string* unknown = nullptr);

/// The names of a set, space-separated, in canonical order.
std::string format_scopes(scope_set set);

// -- grants and tokens --------------------------------------------------------

/// How a grant came to be.
enum class grant_origin : uint8_t {
  /// `postern admin issue-token`: no OAuth client involved.
  admin = 1,
  /// An OAuth authorization (consent screen, code, token endpoint).
  oauth = 2,
};

/// Most accounts one grant may reach (a person has few; the bound keeps
/// tools/list and every token check small).
inline constexpr size_t max_accounts_per_grant = 20;

/// The accounts a grant reaches: at least one, each once, in the order the
/// person chose them, and the one tools use when a call names none.
struct grant_accounts {
  std::vector<account_id> ids;
  /// Empty when the grant reaches several accounts and the person chose no
  /// default (every call must then name one); with one account, that one
  /// is used whatever this says.
  account_id preferred;

  /// True when `a` is among `ids`.
  bool reaches(const account_id& a) const;

  /// The account a call that names none uses: the only one, or the
  /// preferred one; nullptr when the call must name one.
  const account_id* fallback() const;

  /// Why the set is not one a grant may have (empty, too many, repeated,
  /// or a default outside it); an empty sentence when it is fine.
  std::string problem() const;

  /// Takes `a` out (and out of `preferred`); false if it was not there.
  bool remove(const account_id& a);
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, grant_accounts& x) {
  return f(caf::meta::type_name("grant_accounts"), x.ids, x.preferred);
}

/// One grant: user × accounts × client × scopes × resource. Every token
/// belongs to exactly one grant; revoking the grant kills all of them.
struct grant_info {
  grant_id id;
  user_id user;
  grant_accounts accounts;
  /// The OAuth client id; empty for admin-issued grants.
  std::string client_id;
  grant_origin origin = grant_origin::admin;
  scope_set scopes = 0;
  /// The resource (RFC 8707 audience) the tokens are for, e.g.
  /// "https://host/mcp"; empty means any resource of this server.
  std::string resource;
  /// Unix seconds.
  int64_t created_at = 0;
  /// When the grant itself ends (Unix seconds), 0 for "while its refresh
  /// tokens live".
  int64_t expires_at = 0;
  /// Generation of the current refresh token (rotation with reuse
  /// detection: presenting an older generation revokes the grant).
  uint64_t refresh_generation = 0;
  /// The client's human name at consent time (its registered
  /// `client_name`, its metadata document's, or the host of its redirect
  /// URI); empty for admin-issued grants.
  std::string client_name;
  /// Last time a token of this grant was accepted (Unix seconds, 0 for
  /// never). The TOKEN AUTHORITY writes it at most once a minute per
  /// grant and reports its newer in-memory value in `list`.
  int64_t last_used_at = 0;
  /// What its sending tools may do (held for a yes, to whom).
  send_rules send;

  /// Who acts in the audit log: the client id, or "admin-token".
  std::string actor() const {
    return client_id.empty() ? std::string{"admin-token"} : client_id;
  }
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, grant_info& x) {
  return f(caf::meta::type_name("grant_info"), x.id, x.user, x.accounts,
           x.client_id, x.origin, x.scopes, x.resource, x.created_at,
           x.expires_at, x.refresh_generation, x.client_name, x.last_used_at,
           x.send);
}

/// How a tool call and a person name one account of a grant.
struct grant_account {
  account_id id;
  /// The person's name for it ("Work"); never empty (the address when the
  /// person gave none).
  std::string label;
  /// Its email address (the login name), empty when that is the label.
  std::string address;
  /// The other From addresses it may send as (account_settings::aliases).
  std::vector<std::string> aliases;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, grant_account& x) {
  return f(caf::meta::type_name("grant_account"), x.id, x.label, x.address,
           x.aliases);
}

/// The names of an account as a grant shows them.
grant_account grant_account_of(const account_settings& settings);

/// What `validate` answers for a live access token.
struct access_grant {
  grant_info grant;
  /// The token's own scopes (a subset of the grant's).
  scope_set scopes = 0;
  /// When the access token expires (Unix seconds).
  int64_t expires_at = 0;
  /// The grant's accounts that still exist, in the grant's order, with
  /// their names (read in the same transaction as the token).
  std::vector<grant_account> accounts;

  /// The account a tool call names by label or address (letter case aside),
  /// or when it names none (`name` empty) the grant's fallback; nullptr
  /// when there is no such account or the call must name one.
  const grant_account* find_account(std::string_view name) const;

  /// The account with that id among the grant's, or nullptr (a resource
  /// URI or a download link names accounts by id).
  const grant_account* account_with_id(const account_id& id) const;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, access_grant& x) {
  return f(caf::meta::type_name("access_grant"), x.grant, x.scopes,
           x.expires_at, x.accounts);
}

/// Asks the TOKEN AUTHORITY to create a grant with a first access token.
struct grant_request {
  user_id user;
  grant_accounts accounts;
  std::string client_id;
  /// The client's human name (see grant_info::client_name).
  std::string client_name;
  grant_origin origin = grant_origin::admin;
  scope_set scopes = 0;
  std::string resource;
  /// Lifetime of the access token in seconds.
  int64_t token_ttl = 0;
  /// Lifetime of the grant in seconds; 0 ends it with its last token
  /// (admin grants) or leaves it to the refresh tokens (OAuth).
  int64_t grant_ttl = 0;
  send_rules send;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, grant_request& x) {
  return f(caf::meta::type_name("grant_request"), x.user, x.accounts,
           x.client_id, x.client_name, x.origin, x.scopes, x.resource,
           x.token_ttl, x.grant_ttl, x.send);
}

/// A freshly issued access token. The token itself exists only here and
/// in the client's hands; storage keeps its SHA-256.
struct issued_token {
  secret token;
  grant_info grant;
  int64_t expires_at = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, issued_token& x) {
  return f(caf::meta::type_name("issued_token"), x.token, x.grant,
           x.expires_at);
}

// -- OAuth clients, authorization codes and the token endpoint ---------------

/// An OAuth client registered by RFC 7591 dynamic registration.
struct oauth_client {
  std::string id;
  /// Human name: the registered `client_name`, else the host of the first
  /// redirect URI.
  std::string name;
  std::vector<std::string> redirect_uris;
  /// Unix seconds.
  int64_t created_at = 0;
  /// Last token issued to it (Unix seconds), 0 for never.
  int64_t used_at = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, oauth_client& x) {
  return f(caf::meta::type_name("oauth_client"), x.id, x.name, x.redirect_uris,
           x.created_at, x.used_at);
}

/// Asks the TOKEN AUTHORITY for an authorization code once a person
/// approved a consent.
struct code_request {
  user_id user;
  grant_accounts accounts;
  std::string client_id;
  std::string client_name;
  std::string redirect_uri;
  /// PKCE S256 code challenge (base64url of SHA-256, 43 characters).
  std::string challenge;
  std::string resource;
  scope_set scopes = 0;
  /// What the person chose for sending on the consent page.
  send_rules send;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, code_request& x) {
  return f(caf::meta::type_name("code_request"), x.user, x.accounts, x.client_id,
           x.client_name, x.redirect_uri, x.challenge, x.resource, x.scopes,
           x.send);
}

/// A token request with grant_type=authorization_code.
struct code_exchange {
  secret code;
  std::string client_id;
  secret verifier;
  /// The `redirect_uri` parameter; checked only when sent (OAuth 2.1
  /// clients omit it).
  bool has_redirect_uri = false;
  std::string redirect_uri;
  /// The `resource` parameter, canonicalized; empty when not sent.
  std::string resource;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, code_exchange& x) {
  return f(caf::meta::type_name("code_exchange"), x.code, x.client_id,
           x.verifier, x.has_redirect_uri, x.redirect_uri, x.resource);
}

/// A token request with grant_type=refresh_token.
struct refresh_request {
  secret refresh_token;
  std::string client_id;
  /// The `scope` parameter; 0 when not sent (the grant's scopes).
  scope_set scopes = 0;
  /// The `resource` parameter, canonicalized; empty when not sent.
  std::string resource;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, refresh_request& x) {
  return f(caf::meta::type_name("refresh_request"), x.refresh_token,
           x.client_id, x.scopes, x.resource);
}

/// What the token endpoint hands out.
struct token_pair {
  secret access_token;
  secret refresh_token;
  /// When the access token expires (Unix seconds).
  int64_t expires_at = 0;
  /// The access token's scopes.
  scope_set scopes = 0;
  grant_info grant;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, token_pair& x) {
  return f(caf::meta::type_name("token_pair"), x.access_token, x.refresh_token,
           x.expires_at, x.scopes, x.grant);
}

/// An RFC 7009 revocation request.
struct token_revocation {
  secret token;
  /// The `client_id` parameter; empty when not sent.
  std::string client_id;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, token_revocation& x) {
  return f(caf::meta::type_name("token_revocation"), x.token, x.client_id);
}

} // namespace postern
