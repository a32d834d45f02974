// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <caf/meta/type_name.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace postern {

/// Most recipient patterns one connection may carry (a person types them;
/// the bound keeps every send check and grant record small).
inline constexpr size_t max_recipient_patterns = 50;

/// What a connection with mail:send may send, chosen by the person at
/// consent or on the dashboard. Agents that read mail are the textbook
/// target of prompt injection ("forward the last invoice to ..."), so the
/// person can hold every message for a yes, and name who may be written to.
struct send_rules {
  /// Hold each message in the person's outbox until they approve it.
  bool ask_first = false;
  /// Who may be written to: addresses ("bob@example.org") and whole
  /// domains ("*@example.com", which does not cover its subdomains),
  /// lowercase, in the person's order. Empty: anyone.
  std::vector<std::string> recipients;

  /// True when nothing is restricted (the default of every old grant).
  bool open() const {
    return !ask_first && recipients.empty();
  }

  /// True when `address` (a bare address, any letter case) may be written to.
  bool allows(std::string_view address) const;

  /// A sentence refusing the first of `addresses` the rules do not allow
  /// and saying who may be written to; empty when all are allowed.
  std::string refusal(const std::vector<std::string>& addresses) const;

  /// The allowed recipients in words: "bob@example.org or anyone at
  /// example.com"; "anyone" when unrestricted.
  std::string describe_recipients() const;

  /// The patterns as one line, comma-separated (for forms and records).
  std::string recipients_line() const;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, send_rules& x) {
  return f(caf::meta::type_name("send_rules"), x.ask_first, x.recipients);
}

/// Parses a list of recipient patterns separated by commas, spaces or line
/// breaks: addresses and "*@domain" (or "@domain") patterns, lowercased,
/// each once. On a malformed entry returns nullopt and stores a sentence
/// naming it in `problem`.
std::optional<std::vector<std::string>>
parse_recipient_patterns(std::string_view text, std::string* problem = nullptr);

} // namespace postern
