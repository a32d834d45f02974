// SPDX-License-Identifier: Apache-2.0
#include "postern/account.hpp"

#include "postern/text.hpp"

#include <algorithm>
#include <cctype>

namespace postern {

std::string_view to_string(transport_security x) {
  switch (x) {
    case transport_security::tls:
      return "tls";
    case transport_security::starttls:
      return "starttls";
    case transport_security::plain:
      return "plain";
  }
  return "invalid";
}

std::optional<transport_security> parse_transport_security(std::string_view s) {
  auto lower = ascii_lower(s);
  if (lower == "tls" || lower == "ssl")
    return transport_security::tls;
  if (lower == "starttls")
    return transport_security::starttls;
  if (lower == "plain" || lower == "none")
    return transport_security::plain;
  return std::nullopt;
}

std::string_view to_string(sasl_mechanism x) {
  switch (x) {
    case sasl_mechanism::password:
      return "password";
    case sasl_mechanism::xoauth2:
      return "XOAUTH2";
    case sasl_mechanism::oauthbearer:
      return "OAUTHBEARER";
  }
  return "invalid";
}

std::optional<sasl_mechanism> parse_sasl_mechanism(std::string_view s) {
  auto lower = ascii_lower(s);
  if (lower == "xoauth2")
    return sasl_mechanism::xoauth2;
  if (lower == "oauthbearer")
    return sasl_mechanism::oauthbearer;
  return std::nullopt;
}

bool is_provider_name(std::string_view name) {
  return !name.empty() && name.size() <= 32
         && std::all_of(name.begin(), name.end(), [](char c) {
              return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
                     || c == '-' || c == '_';
            });
}

std::string email_address(const account_settings& s) {
  if (s.has_smtp && s.smtp.username.find('@') != std::string::npos)
    return s.smtp.username;
  if (s.imap.username.find('@') != std::string::npos)
    return s.imap.username;
  return {};
}

std::vector<std::string> sender_addresses(const account_settings& s) {
  std::vector<std::string> result;
  if (auto own = email_address(s); !own.empty())
    result.push_back(std::move(own));
  result.insert(result.end(), s.aliases.begin(), s.aliases.end());
  return result;
}

} // namespace postern
