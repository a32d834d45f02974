// SPDX-License-Identifier: Apache-2.0
// What "Add an email account" reads from the network about a domain
// (protocol/mail/src/setup/autoconfig.cpp): DNS SRV answers in wire format
// and A answers in wire format, and Mozilla autoconfig documents. Input:
// byte 0 even: the rest is a DNS answer (read as SRV and as A records);
// odd: an autoconfig document.
#include "fuzz_check.hpp"
#include "postern/error.hpp"
#include "postern/setup/autoconfig.hpp"
#include "postern/utf8.hpp"

#include <cstdint>

using namespace postern;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1)
    return 0;
  if (data[0] % 2 == 0) {
    auto records = setup::parse_srv_answer(data + 1, size - 1);
    if (records) {
      fuzz::require(records->size() <= 64, "at most 64 records are read");
      auto best = setup::choose_srv(*records, transport_security::tls,
                                    "me@example.org");
      if (best)
        fuzz::require(best->port != 0 && !best->host.empty(),
                      "a chosen server has a host and a port");
    }
    if (auto addresses = setup::parse_address_answer(data + 1, size - 1)) {
      fuzz::require(addresses->size() <= 64, "at most 64 records are read");
      for (const auto& a : *addresses)
        fuzz::require(a.size() >= 7 && a.size() <= 15,
                      "an address is dotted IPv4");
    }
    return 0;
  }
  auto xml = fuzz::as_text(data + 1, size - 1);
  auto found = setup::parse_autoconfig(xml, "me@example.org");
  if (!found) {
    fuzz::require(!describe(found.error()).empty(), "a refusal has a sentence");
    return 0;
  }
  fuzz::require(!found->imap.host.empty() && found->imap.port != 0,
                "found settings name an IMAP server");
  fuzz::require(found->imap.security != transport_security::plain,
                "never a plain server");
  return 0;
}
