// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <caf/expected.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace postern::http {

/// One HTTPS GET of a document at a URL someone else chose (a client's
/// client_id, a mail domain's autoconfig server).
struct fetch_request {
  /// https://host[:port]/path[?query], checked by the caller.
  std::string url;
  /// How refusals name the URL and the document: "the client_id URL",
  /// "the client metadata document".
  std::string url_noun;
  std::string document_noun;
  /// The Accept header.
  std::string accept = "*/*";
  /// Largest body accepted.
  size_t max_bytes = 64 * 1024;
  /// Whole fetch: resolve, connect, TLS, request, response.
  std::chrono::milliseconds timeout = std::chrono::seconds(5);
  /// The host's addresses when the caller resolved it already (through
  /// the operator's name server); empty: the system's resolver is asked.
  /// The deny policy applies to them all the same.
  std::vector<std::string> addresses;
};

/// A document that arrived with 200.
struct fetched_document {
  std::string body;
  /// Its Cache-Control header, for callers that cache.
  std::string cache_control;
};

/// Fetches documents over HTTPS on its own Asio thread, so that neither an
/// HTTP strand nor an actor waits for another server: certificate and host
/// name verified (OpenSSL's default trust store, which honours
/// SSL_CERT_FILE), a size and a time limit, redirects not followed, and
/// every address checked against the deny policy (private, loopback,
/// link-local) before connecting; only checked addresses are connected to,
/// so DNS cannot change in between. Quotas and caches belong to the
/// callers (client_metadata_fetcher; the address step's bound on lookups).
class guarded_fetcher {
public:
  struct options {
    /// For tests only: loopback addresses are fetched from (private and
    /// link-local ones never are).
    bool allow_loopback = false;
  };

  using callback = std::function<void(caf::expected<fetched_document>)>;

  explicit guarded_fetcher(options opts);
  ~guarded_fetcher();

  guarded_fetcher(const guarded_fetcher&) = delete;
  guarded_fetcher& operator=(const guarded_fetcher&) = delete;

  /// Calls `done` on the fetcher's thread with the document, or with an
  /// error whose context is a sentence for the person or the client
  /// (ec::invalid_argument). The URL must parse (oauth::split_uri).
  void get(fetch_request req, callback done);

  /// Fetches finished so far, either way (tests check caches with it).
  size_t fetches() const;

  /// Internal state, shared with fetches in flight.
  struct impl;

private:
  std::shared_ptr<impl> impl_;
};

} // namespace postern::http
