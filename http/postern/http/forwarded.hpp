// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "postern/config.hpp"
#include "postern/host_policy.hpp"
#include "postern/http/message.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace postern::http {

/// Which peers may name the client's address: with TRUST_PROXY on, the
/// proxies of TRUSTED_PROXIES (CIDR ranges, default loopback).
struct proxy_trust {
  bool enabled = false;
  /// The trusted proxies, as a set of ranges (host_policy's syntax; an
  /// address this policy does not allow is a trusted proxy).
  host_policy proxies = host_policy::deny_private();

  /// From TRUST_PROXY and TRUSTED_PROXIES (already validated).
  static proxy_trust from(const config& cfg);

  /// True for a well-formed address inside TRUSTED_PROXIES.
  bool trusts(std::string_view address) const;
};

/// One hop as written by a proxy: "1.2.3.4", "1.2.3.4:80", "2001:db8::1",
/// "[2001:db8::1]:443", quoted or not; the address in canonical text (an
/// IPv4-mapped IPv6 address as IPv4), or "" for anything else.
std::string parse_hop(std::string_view text);

/// The addresses of every X-Forwarded-For and Forwarded (`for=`) header,
/// in the order of the header lines and, within one, left to right. Entries
/// that are not addresses ("unknown", "_hidden", garbage) are kept as
/// empty strings so that they stop a walk from the right.
std::vector<std::string> forwarded_chain(const bhttp::fields& headers);

/// The client address for logs and rate limits: the socket peer; or, with
/// TRUST_PROXY and a peer inside TRUSTED_PROXIES, the right-most address of
/// the forwarded chain that is not a trusted proxy (earlier entries are
/// client-controlled; a proxy such as HAProxy's `option forwardfor` adds
/// its own header after the client's). A malformed entry reached before an
/// untrusted address stops the walk at the last trusted hop.
std::string client_address(const std::string& peer,
                           const bhttp::fields& headers,
                           const proxy_trust& trust);

} // namespace postern::http
