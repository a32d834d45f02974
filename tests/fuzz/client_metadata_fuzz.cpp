// SPDX-License-Identifier: Apache-2.0
// OAuth client metadata (oauth/client_metadata.cpp), both ways it arrives.
// Input: a metadata document's URL, a newline, then the document as
// fetched; the part after the newline is also read as a registration
// request (RFC 7591).
#include "fuzz_check.hpp"
#include "postern/mime/charset.hpp"
#include "postern/oauth/client_metadata.hpp"
#include "postern/oauth/uri.hpp"

#include <cstdint>

using namespace postern;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto text = fuzz::as_text(data, size);
  auto nl = text.find('\n');
  if (nl == std::string_view::npos)
    return 0;
  auto url = text.substr(0, nl);
  auto body = text.substr(nl + 1);
  auto acceptable = [](const oauth::client_metadata& c) {
    fuzz::require(!c.redirect_uris.empty() && c.redirect_uris.size() <= 10,
                  "1 to 10 redirect URIs");
    for (auto& uri : c.redirect_uris)
      fuzz::require(oauth::check_redirect_uri(uri).empty(),
                    "every redirect URI is acceptable");
    fuzz::require(mime::is_valid_utf8(c.name), "the name is UTF-8");
  };
  if (auto doc = oauth::parse_client_metadata(url, body)) {
    fuzz::require(doc->client_id == url, "the client id is the URL");
    acceptable(*doc);
  }
  if (auto reg = oauth::parse_registration(body)) {
    fuzz::require(reg->client_id.empty(), "a registration brings no client id");
    acceptable(*reg);
  }
  return 0;
}
