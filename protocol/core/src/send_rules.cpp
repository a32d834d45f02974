// SPDX-License-Identifier: Apache-2.0
#include "postern/send_rules.hpp"

#include <algorithm>

namespace postern {

namespace {

char lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

std::string lowercase(std::string_view text) {
  std::string out{text};
  std::transform(out.begin(), out.end(), out.begin(), lower);
  return out;
}

/// True for the characters a pattern may hold: printable ASCII without
/// blanks, quotes, angle brackets or commas (no display names, no lists),
/// and any UTF-8 byte (internationalized addresses).
bool pattern_char(unsigned char c) {
  if (c >= 0x80)
    return true;
  return c > 0x20 && c < 0x7F && c != '"' && c != '<' && c != '>'
         && c != ',' && c != ';' && c != '(' && c != ')' && c != '\\';
}

/// The domain of a pattern or address: after its only '@'; empty if there
/// is no '@' or more than one.
std::string_view domain_of(std::string_view address) {
  auto at = address.find('@');
  if (at == std::string_view::npos
      || address.find('@', at + 1) != std::string_view::npos)
    return {};
  return address.substr(at + 1);
}

bool valid_domain(std::string_view domain) {
  if (domain.empty() || domain.size() > 253 || domain.front() == '.'
      || domain.back() == '.' || domain.front() == '-'
      || domain.find("..") != std::string_view::npos)
    return false;
  return std::none_of(domain.begin(), domain.end(),
                      [](char c) { return c == '*' || c == '@'; });
}

} // namespace

bool send_rules::allows(std::string_view address) const {
  if (recipients.empty())
    return true;
  auto wanted = lowercase(address);
  auto domain = domain_of(wanted);
  for (auto& p : recipients) {
    if (p.size() > 2 && p[0] == '*' && p[1] == '@') {
      if (!domain.empty() && domain == std::string_view{p}.substr(2))
        return true;
    } else if (p == wanted) {
      return true;
    }
  }
  return false;
}

std::string send_rules::describe_recipients() const {
  if (recipients.empty())
    return "anyone";
  std::string out;
  for (size_t i = 0; i < recipients.size(); ++i) {
    if (i > 0)
      out += i + 1 == recipients.size() ? " or " : ", ";
    auto& p = recipients[i];
    if (p.size() > 2 && p[0] == '*' && p[1] == '@')
      out += "anyone at " + p.substr(2);
    else
      out += p;
  }
  return out;
}

std::string
send_rules::refusal(const std::vector<std::string>& addresses) const {
  for (auto& a : addresses)
    if (!allows(a))
      return "This connection may only write to " + describe_recipients()
             + ", so it cannot send to " + a
             + ". The person who connected this agent can change that on "
               "the dashboard.";
  return {};
}

std::string send_rules::recipients_line() const {
  std::string out;
  for (auto& p : recipients) {
    if (!out.empty())
      out += ", ";
    out += p;
  }
  return out;
}

std::optional<std::vector<std::string>>
parse_recipient_patterns(std::string_view text, std::string* problem) {
  auto fail = [&](std::string why) -> std::optional<std::vector<std::string>> {
    if (problem)
      *problem = std::move(why);
    return std::nullopt;
  };
  std::vector<std::string> out;
  size_t i = 0;
  auto separator = [](char c) {
    return c == ',' || c == ';' || c == ' ' || c == '\t' || c == '\r'
           || c == '\n';
  };
  while (i < text.size()) {
    while (i < text.size() && separator(text[i]))
      ++i;
    auto start = i;
    while (i < text.size() && !separator(text[i]))
      ++i;
    if (i == start)
      continue;
    auto word = text.substr(start, i - start);
    // Never echo more than a short piece of what was typed.
    auto shown = std::string{word.substr(0, 80)};
    if (word.size() > 254)
      return fail("The recipient \"" + shown + "...\" is too long.");
    if (!std::all_of(word.begin(), word.end(), [](char c) {
          return pattern_char(static_cast<unsigned char>(c));
        }))
      return fail("The recipient \"" + shown
                  + "\" holds a character an address cannot have; write "
                    "bare addresses like bob@example.org, or *@example.com "
                    "for a whole domain.");
    auto pattern = lowercase(word);
    if (pattern.front() == '@')
      pattern = "*" + pattern;
    auto domain = domain_of(pattern);
    auto local = std::string_view{pattern}.substr(
      0, pattern.size() - domain.size() - 1);
    bool wildcard = local == "*";
    if (!valid_domain(domain) || local.empty()
        || (!wildcard && local.find('*') != std::string_view::npos))
      return fail("The recipient \"" + shown
                  + "\" is neither an address (bob@example.org) nor a "
                    "domain pattern (*@example.com).");
    if (std::find(out.begin(), out.end(), pattern) == out.end())
      out.push_back(std::move(pattern));
    if (out.size() > max_recipient_patterns)
      return fail("A connection may name at most "
                  + std::to_string(max_recipient_patterns)
                  + " recipients or domains.");
  }
  return out;
}

} // namespace postern
