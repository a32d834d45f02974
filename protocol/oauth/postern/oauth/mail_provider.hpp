// SPDX-License-Identifier: Apache-2.0
#pragma once

// The mail providers an account may sign in to by OAuth instead of with a
// password (Microsoft 365 and Outlook.com, Gmail, or any provider the
// operator lists in MAIL_OAUTH_PROVIDERS), and the token endpoint calls
// Postern makes to them as an OAuth client.

#include "postern/account.hpp"
#include "postern/secret.hpp"

#include <caf/expected.hpp>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace postern::oauth {

/// One provider: where its people sign in, which servers it runs, and how
/// those take the access token.
struct mail_provider {
  /// Short name stored with each account ("microsoft", "google", "acme").
  std::string name;
  /// What the dashboard calls it ("Microsoft", "Google").
  std::string title;
  std::string authorization_endpoint;
  std::string token_endpoint;
  std::string client_id;
  /// Empty for a public client (PKCE alone).
  secret client_secret;
  /// Space-separated, as the authorization request sends them.
  std::string scopes;
  /// Extra parameters of the authorization request (Google needs
  /// access_type=offline and prompt=consent to hand out a refresh token).
  std::map<std::string, std::string> authorize_params;
  /// Address domains the dashboard offers this provider for.
  std::vector<std::string> domains;
  /// Host, port and security of its servers; the login name is the
  /// account's address.
  server_settings imap;
  server_settings smtp;
  sasl_mechanism sasl = sasl_mechanism::xoauth2;
};

/// The providers this server offers, by name.
class mail_providers {
public:
  mail_providers() = default;
  explicit mail_providers(std::vector<mail_provider> all);

  const mail_provider* find(std::string_view name) const;
  /// The provider whose domains include the address's domain, if any.
  const mail_provider* for_address(std::string_view address) const;
  const std::vector<mail_provider>& all() const noexcept {
    return all_;
  }
  bool empty() const noexcept {
    return all_.empty();
  }

private:
  std::vector<mail_provider> all_;
};

/// Where the providers come from: the operator's environment.
struct provider_settings {
  std::string microsoft_client_id;
  secret microsoft_client_secret;
  /// "common" unless MICROSOFT_TENANT names one.
  std::string microsoft_tenant = "common";
  std::string google_client_id;
  secret google_client_secret;
  /// MAIL_OAUTH_PROVIDERS: a JSON file listing further providers.
  std::string providers_file;
};

/// The built-in Microsoft provider for a tenant (and client).
mail_provider microsoft_provider(const provider_settings& s);

/// The built-in Google provider.
mail_provider google_provider(const provider_settings& s);

/// Parses a MAIL_OAUTH_PROVIDERS document: a JSON array of provider
/// objects. An error names the provider (by position and name) and the
/// field that is wrong.
caf::expected<std::vector<mail_provider>>
parse_mail_providers(std::string_view json);

/// Microsoft and Google when their client ids are set, then the file's
/// providers; a name used twice is an error. Errors name the file.
caf::expected<mail_providers> load_mail_providers(const provider_settings& s);

// -- talking to a provider's token endpoint -----------------------------------

/// Reads a token endpoint's answer (RFC 6749 §5.1 and §5.2): expires_in
/// (one hour when the provider does not say, at most a day), and a
/// refresh token when the provider issued one (on a code, or when it
/// rotates them; empty means "keep the one you have"). An "error"
/// of invalid_grant is ec::signin_required (the person must sign in
/// again), any other error ec::server_refused; the sentence names the
/// provider's title and never holds a token.
caf::expected<oauth_access>
parse_token_response(const mail_provider& p, unsigned http_status,
                     std::string_view body);

/// One POST to a token endpoint: the form body, and what came back.
struct token_exchange {
  std::string url;
  std::string body;
};

/// Sends a token request and returns (status, body); blocking, bounded by
/// `timeout`, TLS verified against the system's CAs. Plain http only for a
/// loopback host (tests and local providers).
using token_transport = std::function<caf::expected<std::pair<unsigned,
  std::string>>(const token_exchange&, std::chrono::seconds timeout)>;

/// The transport of a real server: Boost.Beast over TCP and TLS.
token_transport https_token_transport();

/// grant_type=refresh_token.
token_exchange refresh_request(const mail_provider& p, const secret& refresh);

/// grant_type=authorization_code with the PKCE verifier.
token_exchange code_request(const mail_provider& p, std::string_view code,
                            std::string_view verifier,
                            std::string_view redirect_uri);

/// Sends `req` through `transport` and reads the answer.
caf::expected<oauth_access> exchange(const mail_provider& p,
                                        const token_transport& transport,
                                        const token_exchange& req,
                                        std::chrono::seconds timeout);

} // namespace postern::oauth
