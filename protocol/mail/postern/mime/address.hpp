// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <caf/expected.hpp>
#include <caf/meta/type_name.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace postern::mime {

/// One mailbox of a From/To/Cc header: display name (decoded, may be empty)
/// and address ("local@domain"). Both valid UTF-8.
struct address {
  std::string name;
  std::string address;

  friend bool operator==(const struct address& x, const struct address& y) {
    return x.name == y.name && x.address == y.address;
  }
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, address& x) {
  return f(caf::meta::type_name("address"), x.name, x.address);
}

/// Parses a comma-separated address list as a person types it
/// ("Alice <alice@example.com>, bob@example.com", RFC 5322 with groups and
/// RFC 2047 names). Fails with `ec::invalid_argument` and a sentence naming
/// the bad part. Every address passes `is_sendable_address`.
///
/// Bounds: libetpan's parser, then one forward scan for the check that
/// each address is in the text as typed: O(input × 254) at most; an error
/// sentence quotes at most 200 bytes of the text.
caf::expected<std::vector<address>> parse_address_list(std::string_view text);

/// Whether `addr` is a plain ASCII "local@domain" that can go into an SMTP
/// envelope and a header without quoting (no spaces, controls, angle
/// brackets; a domain with a dot or a bracketed literal).
bool is_sendable_address(std::string_view addr);

/// Formats one mailbox for a header: `"Name" <addr>` or `=?UTF-8?B?...?=
/// <addr>` for non-ASCII names, or the bare address without a name.
std::string format_address(const address& x);

} // namespace postern::mime
