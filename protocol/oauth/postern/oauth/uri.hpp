// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

// The URL rules of the OAuth server: redirect URIs (OAuth 2.1 §2.3, §8.4),
// resource indicators (RFC 8707) and client metadata document URLs. Pure
// functions, no I/O.

namespace postern::oauth {

/// The parts of an absolute URL that the rules look at.
struct uri_parts {
  /// Lower case.
  std::string scheme;
  /// Lower case; IPv6 literals keep their brackets.
  std::string host;
  /// Digits only; empty when absent.
  std::string port;
  /// Path, query and fragment, as sent.
  std::string rest;
};

/// Splits "scheme://host[:port][rest]"; nullopt for anything else,
/// including user info ("user@host") and empty hosts or ports.
std::optional<uri_parts> split_uri(std::string_view uri);

/// True for http://127.0.0.1, http://[::1] and http://localhost.
bool is_loopback(const uri_parts& p);

/// The origin a browser goes to for a redirect URI ("https://host:port"),
/// or "scheme:" for private-use schemes (for CSP form-action).
std::string redirect_origin(std::string_view uri);

/// The host a redirect URI goes to, for people (or its scheme).
std::string host_of(std::string_view uri);

/// RFC 8707 resource canonicalization: scheme and host in lower case,
/// default port and trailing slashes dropped.
std::string canonical_resource(std::string_view uri);

/// True if a sent redirect URI matches a registered one: exactly, or for
/// loopback http URIs with any port (OAuth 2.1 §8.4.2).
bool redirect_matches(std::string_view registered, std::string_view sent);

/// Checks one redirect URI of a client; empty when acceptable, else a
/// sentence: https, http on loopback, or a reverse-DNS private scheme.
std::string check_redirect_uri(std::string_view uri);

/// A client's self-asserted name made safe to show: valid UTF-8, no
/// control characters, at most 100 code points.
std::string clean_client_name(std::string_view name);

/// True for client ids that are URLs of metadata documents ("https://",
/// and "http://" so that it can be refused with a clear sentence).
bool is_metadata_client_id(std::string_view client_id);

/// Checks the form of a client metadata document URL: https, a host, a
/// path other than "/", no user info, fragment or dot segments. Empty when
/// fine, else a sentence.
std::string check_metadata_url(std::string_view url);

/// How long a response may be cached from its Cache-Control header: zero
/// for no-store or no-cache, max-age clamped to `longest`, `fallback`
/// without either.
std::chrono::seconds cache_lifetime(std::string_view cache_control,
                                    std::chrono::seconds fallback,
                                    std::chrono::seconds longest);

} // namespace postern::oauth
