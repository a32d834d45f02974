// SPDX-License-Identifier: Apache-2.0
#include "postern/mime/address.hpp"

#include "postern/error.hpp"
#include "postern/mime/charset.hpp"
#include "postern/mime/header.hpp"
#include "postern/mime/work.hpp"

#include <libetpan/libetpan.h>

#include <memory>

namespace postern::mime {

namespace {

struct address_list_deleter {
  void operator()(mailimf_address_list* x) const noexcept {
    mailimf_address_list_free(x);
  }
};

// libetpan keeps the quotes of a quoted display name.
std::string unquote(std::string_view text) {
  if (text.size() < 2 || text.front() != '"' || text.back() != '"')
    return std::string{text};
  std::string result;
  for (size_t i = 1; i + 1 < text.size(); ++i) {
    if (text[i] == '\\' && i + 2 < text.size())
      ++i;
    result += text[i];
  }
  return result;
}

bool is_atext(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
         || (c >= '0' && c <= '9')
         || std::string_view{"!#$%&'*+-/=?^_`{|}~"}.find(c)
              != std::string_view::npos;
}

void add_mailbox(std::vector<address>& out, const mailimf_mailbox* mb) {
  if (mb == nullptr || mb->mb_addr_spec == nullptr)
    return;
  address a;
  if (mb->mb_display_name != nullptr)
    a.name = decode_header(unquote(mb->mb_display_name));
  a.address = to_valid_utf8(mb->mb_addr_spec);
  out.push_back(std::move(a));
}

// The text as an error sentence shows it: at most 200 bytes.
std::string shown(std::string_view text) {
  constexpr size_t most = 200;
  if (text.size() <= most)
    return to_valid_utf8(text);
  return to_valid_utf8(
           truncate_utf8(to_valid_utf8(text.substr(0, most + 4)), most))
         + "\xE2\x80\xA6";
}

} // namespace

caf::expected<std::vector<address>> parse_address_list(std::string_view text) {
  std::string input{text};
  for (auto& c : input)
    if (c == '\r' || c == '\n')
      c = ' ';
  size_t index = 0;
  mailimf_address_list* raw = nullptr;
  auto rc = mailimf_address_list_parse(input.c_str(), input.size(), &index,
                                       &raw);
  std::unique_ptr<mailimf_address_list, address_list_deleter> list{raw};
  auto rest = std::string_view{input}.substr(std::min(index, input.size()));
  while (!rest.empty() && (rest.front() == ' ' || rest.front() == '\t'))
    rest.remove_prefix(1);
  if (rc != MAILIMF_NO_ERROR || list == nullptr || !rest.empty())
    return caf::make_error(ec::invalid_argument,
                           "The address list \"" + shown(text)
                             + "\" is not valid; write addresses like "
                               "name@example.com or Name <name@example.com>, "
                               "separated by commas");
  std::vector<address> result;
  for (auto* it = clist_begin(list->ad_list); it != nullptr;
       it = clist_next(it)) {
    auto* entry = static_cast<mailimf_address*>(clist_content(it));
    if (entry->ad_type == MAILIMF_ADDRESS_MAILBOX) {
      add_mailbox(result, entry->ad_data.ad_mailbox);
    } else if (entry->ad_type == MAILIMF_ADDRESS_GROUP
               && entry->ad_data.ad_group->grp_mb_list != nullptr) {
      for (auto* m = clist_begin(entry->ad_data.ad_group->grp_mb_list->mb_list);
           m != nullptr; m = clist_next(m))
        add_mailbox(result, static_cast<mailimf_mailbox*>(clist_content(m)));
    }
  }
  size_t cursor = 0;
  for (auto& a : result) {
    // libetpan drops white space inside an addr-spec ("a b@c.com" becomes
    // "ab@c.com"); an address that is not in the text as typed is a typo.
    // The addresses come in the order of the text: each is looked for
    // after the one before, so the check is linear, not quadratic.
    auto at = input.find(a.address, cursor);
    detail::count_work((at == std::string::npos ? input.size() : at) - cursor
                       + a.address.size());
    if (at != std::string::npos)
      cursor = at + a.address.size();
    if (at == std::string::npos)
      return caf::make_error(ec::invalid_argument,
                             "The address list \"" + shown(text)
                               + "\" has an address with a space or other "
                                 "character that does not belong there");
    if (!is_sendable_address(a.address))
      return caf::make_error(ec::invalid_argument,
                             "The address \"" + a.address
                               + "\" cannot be used; Postern sends only to "
                                 "plain ASCII addresses like "
                                 "name@example.com");
  }
  return result;
}

bool is_sendable_address(std::string_view addr) {
  auto at = addr.rfind('@');
  if (at == std::string_view::npos || at == 0 || at + 1 >= addr.size()
      || addr.size() > 254)
    return false;
  auto local = addr.substr(0, at);
  auto domain = addr.substr(at + 1);
  if (local.size() > 64 || local.front() == '.' || local.back() == '.'
      || local.find("..") != std::string_view::npos)
    return false;
  for (char c : local)
    if (!is_atext(c) && c != '.')
      return false;
  if (domain.front() == '[') {
    if (domain.back() != ']' || domain.size() < 3)
      return false;
    auto literal = domain.substr(1, domain.size() - 2);
    if (literal.substr(0, 5) == "IPv6:")
      literal.remove_prefix(5);
    return literal.find_first_not_of("0123456789abcdefABCDEF.:")
           == std::string_view::npos;
  }
  if (domain.front() == '.' || domain.back() == '.'
      || domain.find("..") != std::string_view::npos)
    return false;
  for (char c : domain) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
              || (c >= '0' && c <= '9') || c == '-' || c == '.';
    if (!ok)
      return false;
  }
  return true;
}

std::string format_address(const address& x) {
  if (x.name.empty())
    return x.address;
  bool ascii_atoms = true;
  bool ascii = true;
  for (char c : x.name) {
    auto u = static_cast<unsigned char>(c);
    if (u >= 0x7F || u < 0x20)
      ascii = false;
    if (!is_atext(c) && c != ' ')
      ascii_atoms = false;
  }
  if (x.name.find("=?") != std::string::npos)
    ascii = false;
  std::string name;
  if (!ascii) {
    name = encode_header(x.name);
  } else if (ascii_atoms) {
    name = x.name;
  } else {
    name = "\"";
    for (char c : x.name) {
      if (c == '"' || c == '\\')
        name += '\\';
      name += c;
    }
    name += '"';
  }
  return name + " <" + x.address + ">";
}

} // namespace postern::mime
