// SPDX-License-Identifier: Apache-2.0
// HTML to text (mime/html.cpp): any bytes, as a mail's HTML part after
// charset conversion would not guarantee UTF-8 either.
#include "fuzz_check.hpp"
#include "postern/mime/charset.hpp"
#include "postern/mime/html.hpp"
#include "postern/mime/limits.hpp"

#include <cstdint>

using namespace postern;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto html = fuzz::as_text(data, size);
  auto text = mime::html_to_text(html);
  fuzz::require(mime::is_valid_utf8(text), "html_to_text returns valid UTF-8");
  fuzz::require(text.size() <= mime::max_text_bytes + 64,
                "html_to_text output is capped");
  auto charset = mime::sniff_html_charset(html);
  fuzz::require(charset.size() <= 4096, "a sniffed charset is short");
  return 0;
}
