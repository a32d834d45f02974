// SPDX-License-Identifier: Apache-2.0
// postern:// resource URIs (protocol/tools/src/resources.cpp), as
// resources/read receives them from any client. Input: the URI.
#include "fuzz_check.hpp"
#include "postern/mcp/resources.hpp"
#include "postern/utf8.hpp"

#include <cstdint>

using namespace postern;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto uri = fuzz::as_text(data, size);
  std::string why;
  auto parsed = mcp::parse_mail_resource(uri, why);
  if (!parsed) {
    fuzz::require(!why.empty(), "a refusal has a sentence");
    fuzz::require(is_valid_utf8(why), "the sentence is UTF-8");
    return 0;
  }
  // What parses names one place: written again, it reads the same.
  auto again = mcp::to_uri(*parsed);
  std::string why_again;
  auto back = mcp::parse_mail_resource(again, why_again);
  fuzz::require(back.has_value(), "a written URI parses");
  fuzz::require(back->account == parsed->account
                  && back->folder == parsed->folder
                  && back->uid == parsed->uid
                  && back->part_id == parsed->part_id,
                "a written URI names the same place");
  return 0;
}
