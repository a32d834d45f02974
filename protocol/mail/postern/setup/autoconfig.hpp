// SPDX-License-Identifier: Apache-2.0
#pragma once

// Mail server settings found from an address alone, for "Add an email
// account" (issue 16): DNS SRV records (RFC 6186), a built-in table of
// well-known providers, and the Mozilla-style autoconfig document on the
// domain. Pure functions over the answers, and the blocking DNS queries
// (src/setup/dns.cpp); the HTTPS fetch of autoconfig documents belongs to
// the HTTP layer (http/src/mail_setup_lookup.cpp).

#include "postern/account.hpp"

#include <caf/expected.hpp>

#include <netinet/in.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace postern::setup {

/// What was found for an address. The person still checks every field.
struct discovered_settings {
  server_settings imap;
  bool has_smtp = false;
  server_settings smtp;
  /// "srv", "table" or "autoconfig".
  std::string source;
  /// The OAuth provider ("microsoft", "google") whose servers these are,
  /// when the dashboard should offer its sign-in instead of a password.
  std::string oauth_provider;
  /// The provider's name for people ("iCloud Mail"), when known.
  std::string title;
};

/// The built-in table: settings of well-known providers by domain.
std::optional<discovered_settings> well_known_settings(std::string_view address);

/// One SRV record (RFC 2782).
struct srv_record {
  uint16_t priority = 0;
  uint16_t weight = 0;
  uint16_t port = 0;
  std::string target;
};

/// Reads the SRV records of a DNS answer in wire format (what res_query
/// returns). A malformed message is an error; no records is an empty list.
caf::expected<std::vector<srv_record>> parse_srv_answer(const unsigned char* msg,
                                                        size_t size);

/// The server of the best SRV record (lowest priority, then highest
/// weight), with `security` and the address as login; nullopt when there
/// is none or the record says "no such service" (target ".", RFC 6186
/// §3.4).
std::optional<server_settings> choose_srv(std::vector<srv_record> records,
                                          transport_security security,
                                          std::string_view address);

/// Where lookups of mail settings ask DNS.
struct dns_options {
  /// One IPv4 name server as "address" or "address:port" (MAIL_SETUP_DNS;
  /// tests point it at a loopback one); empty uses the system's resolver.
  std::string nameserver;
  /// Per query, one attempt: a lookup never holds a form for long.
  std::chrono::seconds timeout{2};
};

/// The name server of MAIL_SETUP_DNS: an IPv4 address with an optional
/// ":port" (53 without). An error sentence says what is wrong.
caf::expected<sockaddr_in> parse_nameserver(std::string_view text);

/// True for names public DNS never answers (RFC 6761 and RFC 6762:
/// .test, .example, .invalid, .localhost, .local, and single labels): the
/// system's resolver is not asked about them.
bool is_special_use_domain(std::string_view domain);

/// The SRV records of `name` (blocking: one query, bounded by the
/// timeout). A name without records is an empty list; a server that does
/// not answer, or answers garbage, is an error.
caf::expected<std::vector<srv_record>> query_srv(const std::string& name,
                                                 const dns_options& o);

/// Settings from the domain's SRV records (RFC 6186, with RFC 8314's
/// implicit TLS first): _imaps._tcp, else _imap._tcp (STARTTLS), and
/// _submissions._tcp, else _submission._tcp (STARTTLS). nullopt without an
/// IMAP service, for a special-use domain on the system's resolver, or when
/// DNS fails (the person types the settings).
std::optional<discovered_settings> srv_settings(std::string_view address,
                                                const dns_options& o);

/// The IPv4 addresses of the A records of a DNS answer in wire format.
caf::expected<std::vector<std::string>>
parse_address_answer(const unsigned char* msg, size_t size);

/// The IPv4 addresses of `name` from the name server of `o` (used when
/// the operator names one, so that every lookup of the address step asks
/// the same server). A name without addresses is an empty list.
caf::expected<std::vector<std::string>>
query_addresses(const std::string& name, const dns_options& o);

/// Where a domain publishes its autoconfig document, in the order
/// Thunderbird asks: https://autoconfig.<domain>/mail/config-v1.1.xml (with
/// ?emailaddress=, the domain's own server) and
/// https://<domain>/.well-known/autoconfig/mail/config-v1.1.xml. HTTPS
/// only: a document over plain HTTP could send the password anywhere.
/// `port` other than 443 is for tests.
std::vector<std::string> autoconfig_urls(std::string_view address,
                                         uint16_t port = 443);

/// Reads a Mozilla autoconfig document (clientConfig 1.1): the first IMAP
/// incoming server and the first SMTP outgoing server with TLS or
/// STARTTLS (plain ones are skipped), the login from its %EMAILADDRESS%,
/// %EMAILLOCALPART% or %EMAILDOMAIN% pattern. An error says what is
/// missing; a document that is not XML is an error, never a crash.
caf::expected<discovered_settings> parse_autoconfig(std::string_view xml,
                                                    std::string_view address);

} // namespace postern::setup
