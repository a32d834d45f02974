// SPDX-License-Identifier: Apache-2.0
// The URL rules of the OAuth server (oauth/uri.cpp): redirect URIs,
// resources, metadata document URLs, client names and Cache-Control. Input:
// one URI, or two separated by a NUL byte for redirect_matches (registered,
// then sent).
#include "fuzz_check.hpp"
#include "postern/mime/charset.hpp"
#include "postern/oauth/uri.hpp"

#include <cstdint>

using namespace postern;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto text = fuzz::as_text(data, size);
  auto nul = text.find('\0');
  auto uri = text.substr(0, nul);
  auto sent = nul == std::string_view::npos ? uri : text.substr(nul + 1);
  if (auto parts = oauth::split_uri(uri)) {
    (void) oauth::is_loopback(*parts);
    fuzz::require(!parts->host.empty(), "a split URI has a host");
  }
  (void) oauth::redirect_origin(uri);
  (void) oauth::host_of(uri);
  (void) oauth::canonical_resource(uri);
  auto registered_ok = oauth::check_redirect_uri(uri).empty();
  if (oauth::redirect_matches(uri, sent) && registered_ok)
    fuzz::require(oauth::split_uri(sent).has_value() || sent == uri,
                  "a matching redirect URI is a URI");
  auto name = oauth::clean_client_name(text);
  fuzz::require(mime::is_valid_utf8(name), "a client name is UTF-8");
  fuzz::require(mime::count_code_points(name) <= 100, "a client name is short");
  (void) oauth::is_metadata_client_id(uri);
  (void) oauth::check_metadata_url(uri);
  auto ttl = oauth::cache_lifetime(text, std::chrono::seconds{300},
                                   std::chrono::seconds{86400});
  fuzz::require(ttl.count() >= 0 && ttl.count() <= 86400,
                "a cache lifetime is clamped");
  return 0;
}
