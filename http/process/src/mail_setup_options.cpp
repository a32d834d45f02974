// SPDX-License-Identifier: Apache-2.0
// The options of issue 16: OAuth mail providers and the address step's
// lookups (SRV records, autoconfig documents).
#include "option_table.hpp"

#include "postern/setup/autoconfig.hpp"

namespace postern::cli {

std::vector<option> mail_setup_options() {
  return {
    {"--microsoft-client-id", "MICROSOFT_CLIENT_ID", "ID",
     "offer \"Sign in with Microsoft\" with this app registration",
     string_setter(&config::microsoft_client_id)},
    {"--microsoft-client-secret", "MICROSOFT_CLIENT_SECRET", "TEXT",
     "its client secret (prefer the variable: flags are visible in ps)",
     secret_setter(&config::microsoft_client_secret)},
    {"--microsoft-tenant", "MICROSOFT_TENANT", "TENANT",
     "common (default), organizations, consumers or a tenant id",
     string_setter(&config::microsoft_tenant)},
    {"--google-client-id", "GOOGLE_CLIENT_ID", "ID",
     "offer \"Sign in with Google\" with this OAuth client",
     string_setter(&config::google_client_id)},
    {"--google-client-secret", "GOOGLE_CLIENT_SECRET", "TEXT",
     "its client secret (prefer the variable: flags are visible in ps)",
     secret_setter(&config::google_client_secret)},
    {"--mail-oauth-providers", "MAIL_OAUTH_PROVIDERS", "FILE",
     "JSON file listing further OAuth mail providers",
     string_setter(&config::mail_oauth_providers)},
    {"--mail-setup-dns", "MAIL_SETUP_DNS", "ADDR",
     "name server for finding a new account's servers (SRV records): off, "
     "or IPv4[:port]; default the system's resolver",
     [](config& cfg, const std::string& text, bool) -> caf::error {
       if (!text.empty() && text != "off" && !setup::parse_nameserver(text))
         return caf::make_error(ec::invalid_argument,
                                "MAIL_SETUP_DNS must be off or an IPv4 "
                                "address with an optional :port, e.g. "
                                "127.0.0.1:5353");
       cfg.mail_setup_dns = text;
       return caf::none;
     }},
    {"--test-autoconfig-port", "TEST_AUTOCONFIG_PORT", "N",
     "tests only: fetch mail autoconfig documents from this port instead "
     "of 443",
     [](config& cfg, const std::string& text, bool) -> caf::error {
       auto port = parse_port(text);
       if (!port)
         return bad("TEST_AUTOCONFIG_PORT must be a port (1-65535), got \""
                    + text + "\"");
       cfg.test_autoconfig_port = *port;
       return caf::none;
     }},
  };
}

} // namespace postern::cli
