// SPDX-License-Identifier: Apache-2.0
#include "postern/grant.hpp"

#include "postern/text.hpp"

#include <algorithm>
#include <iterator>

namespace postern {

std::string_view to_string(scope s) {
  switch (s) {
    case scope::folders:
      return "mail:folders";
    case scope::read:
      return "mail:read";
    case scope::search:
      return "mail:search";
    case scope::modify:
      return "mail:modify";
    case scope::send:
      return "mail:send";
    case scope::draft:
      return "mail:draft";
  }
  return "invalid";
}

std::optional<scope> parse_scope(std::string_view name) {
  for (auto s : all_scopes)
    if (to_string(s) == name)
      return s;
  return std::nullopt;
}

std::optional<scope_set> parse_scopes(std::string_view text,
                                      std::string* unknown) {
  scope_set result = 0;
  size_t i = 0;
  while (i < text.size()) {
    auto c = text[i];
    if (c == ' ' || c == ',' || c == '\t') {
      ++i;
      continue;
    }
    auto end = text.find_first_of(" ,\t", i);
    if (end == std::string_view::npos)
      end = text.size();
    auto name = text.substr(i, end - i);
    auto s = parse_scope(name);
    if (!s) {
      if (unknown)
        *unknown = std::string{name};
      return std::nullopt;
    }
    result |= bit(*s);
    i = end;
  }
  return result;
}

std::string format_scopes(scope_set set) {
  std::string result;
  for (auto s : all_scopes) {
    if (!has_scope(set, s))
      continue;
    if (!result.empty())
      result += ' ';
    result += to_string(s);
  }
  return result;
}

// -- the accounts of a grant --------------------------------------------------

bool grant_accounts::reaches(const account_id& a) const {
  return std::find(ids.begin(), ids.end(), a) != ids.end();
}

const account_id* grant_accounts::fallback() const {
  if (ids.size() == 1)
    return &ids.front();
  if (!preferred.value.empty() && reaches(preferred))
    return &preferred;
  return nullptr;
}

std::string grant_accounts::problem() const {
  if (ids.empty())
    return "a grant needs at least one email account";
  if (ids.size() > max_accounts_per_grant)
    return "a grant may reach at most "
           + std::to_string(max_accounts_per_grant) + " email accounts";
  for (auto i = ids.begin(); i != ids.end(); ++i) {
    if (i->value.empty())
      return "an email account id is empty";
    if (std::find(std::next(i), ids.end(), *i) != ids.end())
      return "an email account is named twice";
  }
  if (!preferred.value.empty() && !reaches(preferred))
    return "the default email account is not among the grant's accounts";
  return {};
}

bool grant_accounts::remove(const account_id& a) {
  auto i = std::find(ids.begin(), ids.end(), a);
  if (i == ids.end())
    return false;
  ids.erase(i);
  if (preferred == a)
    preferred = account_id{};
  return true;
}

grant_account grant_account_of(const account_settings& settings) {
  grant_account result;
  result.id = settings.id;
  auto address = email_address(settings);
  if (address.empty())
    address = settings.imap.username;
  result.label = settings.label.empty() ? address : settings.label;
  if (result.label != address)
    result.address = address;
  result.aliases = settings.aliases;
  return result;
}

const grant_account* access_grant::find_account(std::string_view name) const {
  if (name.empty()) {
    auto id = grant.accounts.fallback();
    return id ? account_with_id(*id) : nullptr;
  }
  auto wanted = ascii_lower(name);
  // Labels first: a label that looks like another account's address still
  // means the account the person gave that label.
  for (auto& a : accounts)
    if (ascii_lower(a.label) == wanted)
      return &a;
  for (auto& a : accounts)
    if (!a.address.empty() && ascii_lower(a.address) == wanted)
      return &a;
  return nullptr;
}

const grant_account* access_grant::account_with_id(const account_id& id) const {
  for (auto& a : accounts)
    if (a.id == id)
      return &a;
  return nullptr;
}

} // namespace postern
