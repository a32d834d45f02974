// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <caf/error.hpp>

#include <libetpan/mailstream.h>

#include <string>

struct ssl_st;

namespace postern::imap {

/// Prepares an OpenSSL client connection (Boost.Asio's, say) to verify the
/// server as `host`: the certificate must name that host (DNS name, no
/// partial wildcards) or IP literal, and SNI is sent for names. The
/// context's verify mode and trusted CAs are the caller's. False when
/// OpenSSL refuses the host.
bool expect_tls_host(ssl_st* ssl, const std::string& host);


/// Verifies the certificate chain the server presented on the TLS `stream`
/// (after STARTTLS, or on an implicit-TLS connection) with OpenSSL, because
/// libetpan accepts any certificate. Call it before sending credentials.
///
/// The chain must lead to a trusted CA, and the leaf certificate must be
/// valid for TLS servers and for `host`. A `host` that is an IP literal
/// (`127.0.0.1`, `::1` or `[::1]`) is matched against the IP addresses in
/// subjectAltName, anything else against its DNS names (no partial
/// wildcards).
///
/// @param stream the session's stream, e.g. `mailimap::imap_stream` or
///        `mailsmtp::stream`; not modified.
/// @param host the host name or IP literal the user configured (not the
///        resolved address, unless the user typed an address).
/// @param ca_file a PEM file holding the CA certificates to trust instead of
///        the system store; empty to use the system store (which honours
///        SSL_CERT_FILE and SSL_CERT_DIR).
/// @returns an empty error on success, else `ec::tls_failure` whose context
///          is a sentence such as "certificate verify failed: unable to get
///          local issuer certificate (depth 0: CN=localhost)".
caf::error verify_peer_certificate(mailstream* stream, const std::string& host,
                                   const std::string& ca_file);

} // namespace postern::imap
