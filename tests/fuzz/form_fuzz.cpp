// SPDX-License-Identifier: Apache-2.0
// Form bodies and query strings (http/form.cpp) and Cookie headers
// (http/cookies.cpp). Input: the first byte picks the parser.
#include "fuzz_check.hpp"
#include "postern/http/cookies.hpp"
#include "postern/http/form.hpp"

#include <cstdint>

using namespace postern;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0)
    return 0;
  auto mode = data[0] % 3;
  auto text = fuzz::as_text(data + 1, size - 1);
  switch (mode) {
    case 0: {
      auto form = http::form_data::parse(text);
      fuzz::require(form.fields().size() <= 200, "at most max_fields fields");
      // The lookups handlers make: a few names, not every one (that would
      // make the target quadratic, not the parser).
      size_t n = 0;
      for (auto& [name, value] : form.fields()) {
        if (++n > 4)
          break;
        (void) form.get(name);
        (void) form.all(name);
        fuzz::require(form.has(name), "a parsed name is present");
      }
      break;
    }
    case 1: {
      auto decoded = http::url_decode(text);
      fuzz::require(decoded.size() <= text.size(), "decoding only shrinks");
      auto again = http::url_decode(http::url_encode(text), false);
      fuzz::require(again == text, "url_encode round-trips");
      break;
    }
    default: {
      // One or more Cookie headers, separated by NUL bytes (at most 32:
      // Beast's field list, not the cookie parser, is slow with thousands).
      http::request req;
      for (int headers = 0; headers < 32 && !text.empty(); ++headers) {
        auto end = text.find('\0');
        req.raw.insert(http::bhttp::field::cookie, text.substr(0, end));
        if (end == std::string_view::npos)
          break;
        text.remove_prefix(end + 1);
      }
      for (auto name : {"postern_session", "postern_csrf", "", "a"})
        (void) http::find_cookie(req, name);
      break;
    }
  }
  return 0;
}
