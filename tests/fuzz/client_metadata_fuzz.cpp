// SPDX-License-Identifier: Apache-2.0
// OAuth client metadata documents (oauth/client_metadata.cpp). Input: the
// document's URL, a newline, then the document as fetched.
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
  auto doc = oauth::parse_client_metadata(url, body);
  if (doc) {
    fuzz::require(doc->client_id == url, "the client id is the URL");
    fuzz::require(!doc->redirect_uris.empty() && doc->redirect_uris.size() <= 10,
                  "1 to 10 redirect URIs");
    for (auto& uri : doc->redirect_uris)
      fuzz::require(oauth::check_redirect_uri(uri).empty(),
                    "every redirect URI is acceptable");
    fuzz::require(mime::is_valid_utf8(doc->name), "the name is UTF-8");
  }
  return 0;
}
