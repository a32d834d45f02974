// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <caf/expected.hpp>

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace postern {

/// Which mail server addresses users may point Postern at
/// (ACCOUNT_HOST_DENY), so that nobody can make the server connect to
/// internal services. The DIRECTORY checks IP literals and "localhost" when
/// an account is saved; every connection (IMAP, SMTP, connection tests)
/// resolves the name once and connects only to the resolved addresses the
/// policy allows, so a DNS answer that changes in between cannot slip past.
class host_policy {
public:
  /// Parses a comma-separated list of CIDR ranges and the keywords
  /// `private` (loopback, RFC 1918, link-local, CGNAT, unique-local,
  /// unspecified, multicast, NAT64 and 6to4) and `loopback`; `none` allows
  /// everything.
  static caf::expected<host_policy> parse(std::string_view spec);

  /// The default: `private`.
  static host_policy deny_private();

  /// True if connecting to this IP address (text form) is allowed; false for
  /// denied addresses and for text that is not an address.
  bool allows_address(std::string_view address) const;

  /// Checks a host name or literal as a user typed it. Literals and
  /// localhost names are checked now; other names pass (and are checked
  /// after resolution). Fails with a sentence for the user.
  caf::error check_host(std::string_view host) const;

  /// True when nothing is denied.
  bool allows_everything() const noexcept {
    return ranges_.empty();
  }

private:
  struct range {
    std::array<uint8_t, 16> prefix{}; // IPv4 as IPv4-mapped IPv6
    unsigned bits = 0;
  };

  static bool parse_address(std::string_view text,
                            std::array<uint8_t, 16>& out);
  void add_keyword_private();
  void add_loopback();
  caf::error add_cidr(std::string_view cidr);

  std::vector<range> ranges_;
};

/// True for 127.0.0.0/8, ::1, ::ffff:127.x, "localhost" and "*.localhost".
bool is_loopback_host(std::string_view host);

/// True for a syntactically valid DNS name or IP literal (no spaces, no
/// URL syntax, at most 253 characters).
bool is_valid_host(std::string_view host);

} // namespace postern
