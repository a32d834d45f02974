// SPDX-License-Identifier: Apache-2.0
#include "postern/host_policy.hpp"

#include "postern/error.hpp"
#include "postern/text.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <cstring>

namespace postern {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front())))
    s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())))
    s.remove_suffix(1);
  return s;
}

std::string_view strip_brackets(std::string_view host) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    return host.substr(1, host.size() - 2);
  return host;
}

} // namespace

bool host_policy::parse_address(std::string_view text,
                                std::array<uint8_t, 16>& out) {
  std::string s{strip_brackets(text)};
  in_addr v4{};
  if (inet_pton(AF_INET, s.c_str(), &v4) == 1) {
    out.fill(0);
    out[10] = 0xFF;
    out[11] = 0xFF;
    std::memcpy(out.data() + 12, &v4, 4);
    return true;
  }
  in6_addr v6{};
  if (inet_pton(AF_INET6, s.c_str(), &v6) == 1) {
    std::memcpy(out.data(), &v6, 16);
    return true;
  }
  return false;
}

caf::error host_policy::add_cidr(std::string_view cidr) {
  auto slash = cidr.find('/');
  auto addr = cidr.substr(0, slash);
  range r;
  if (!parse_address(addr, r.prefix))
    return caf::make_error(ec::invalid_configuration,
                           "ACCOUNT_HOST_DENY: \"" + std::string{cidr}
                             + "\" is not an address, a CIDR range, "
                               "\"private\", \"loopback\" or \"none\"");
  bool is_v4 = addr.find(':') == std::string_view::npos;
  unsigned max_bits = is_v4 ? 32 : 128;
  unsigned bits = max_bits;
  if (slash != std::string_view::npos) {
    auto text = std::string{cidr.substr(slash + 1)};
    if (text.empty() || text.size() > 3
        || !std::all_of(text.begin(), text.end(),
                        [](unsigned char c) { return std::isdigit(c); })
        || std::stoul(text) > max_bits)
      return caf::make_error(ec::invalid_configuration,
                             "ACCOUNT_HOST_DENY: bad prefix length in \""
                               + std::string{cidr} + "\"");
    bits = static_cast<unsigned>(std::stoul(text));
  }
  r.bits = is_v4 ? bits + 96 : bits;
  ranges_.push_back(r);
  return caf::none;
}

void host_policy::add_loopback() {
  (void) add_cidr("127.0.0.0/8");
  (void) add_cidr("::1/128");
}

void host_policy::add_keyword_private() {
  add_loopback();
  for (auto cidr :
       {"0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "169.254.0.0/16",
        "172.16.0.0/12", "192.0.0.0/24", "192.168.0.0/16", "198.18.0.0/15",
        "224.0.0.0/4", "240.0.0.0/4", "::/128", "fc00::/7", "fe80::/10",
        "ff00::/8",
        // NAT64 (RFC 6052) and 6to4 (RFC 3056) embed an IPv4
        // address: 64:ff9b::10.0.0.1 or 2002:0a00:0001:: reach
        // 10.0.0.1 through a translator or relay.
        "64:ff9b::/96", "64:ff9b:1::/48", "2002::/16"})
    (void) add_cidr(cidr);
}

caf::expected<host_policy> host_policy::parse(std::string_view spec) {
  host_policy result;
  auto text = ascii_lower(trim(spec));
  if (text == "none")
    return result;
  if (text.empty())
    return deny_private();
  size_t pos = 0;
  while (pos <= text.size()) {
    auto comma = text.find(',', pos);
    auto item = trim(std::string_view{text}.substr(
      pos, comma == std::string::npos ? std::string::npos : comma - pos));
    if (item == "private")
      result.add_keyword_private();
    else if (item == "loopback")
      result.add_loopback();
    else if (!item.empty())
      if (auto err = result.add_cidr(item))
        return err;
    if (comma == std::string::npos)
      break;
    pos = comma + 1;
  }
  return result;
}

host_policy host_policy::deny_private() {
  host_policy result;
  result.add_keyword_private();
  return result;
}

bool host_policy::allows_address(std::string_view address) const {
  std::array<uint8_t, 16> a{};
  if (!parse_address(address, a))
    return false;
  for (auto& r : ranges_) {
    auto full = r.bits / 8;
    auto rest = r.bits % 8;
    if (!std::equal(a.begin(), a.begin() + full, r.prefix.begin()))
      continue;
    if (rest != 0) {
      auto mask = static_cast<uint8_t>(0xFF << (8 - rest));
      if ((a[full] & mask) != (r.prefix[full] & mask))
        continue;
    }
    return false;
  }
  return true;
}

caf::error host_policy::check_host(std::string_view host) const {
  if (!is_valid_host(host))
    return caf::make_error(ec::invalid_argument,
                           "\"" + std::string{host}
                             + "\" is not a valid host name");
  if (ranges_.empty())
    return caf::none;
  std::array<uint8_t, 16> ignored{};
  auto literal = parse_address(host, ignored);
  auto effective = literal ? std::string{host}
                           : (is_loopback_host(host) ? std::string{"127.0.0.1"}
                                                     : std::string{});
  if (!effective.empty() && !allows_address(effective))
    return caf::make_error(ec::forbidden,
                           "this server does not allow mail servers on "
                           "private or internal addresses ("
                             + std::string{host} + ")");
  return caf::none;
}

bool is_loopback_host(std::string_view host) {
  auto h = ascii_lower(strip_brackets(host));
  if (h == "localhost"
      || (h.size() > 10 && h.substr(h.size() - 10) == ".localhost"))
    return true;
  in_addr v4{};
  if (inet_pton(AF_INET, h.c_str(), &v4) == 1)
    return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  if (inet_pton(AF_INET6, h.c_str(), &v6) == 1) {
    static const uint8_t one[16] = {0, 0, 0, 0, 0, 0, 0, 0,
                                    0, 0, 0, 0, 0, 0, 0, 1};
    if (std::memcmp(&v6, one, 16) == 0)
      return true;
    auto b = reinterpret_cast<const uint8_t*>(&v6);
    bool mapped = std::all_of(b, b + 10, [](uint8_t x) { return x == 0; })
                  && b[10] == 0xFF && b[11] == 0xFF;
    return mapped && b[12] == 127;
  }
  return false;
}

bool is_valid_host(std::string_view host) {
  if (host.empty() || host.size() > 253)
    return false;
  in6_addr v6{};
  std::string inner{strip_brackets(host)};
  if (inet_pton(AF_INET6, inner.c_str(), &v6) == 1)
    return true;
  // DNS name (or IPv4 literal): labels of letters, digits and inner
  // hyphens, 1 to 63 characters each, an optional final dot.
  auto name = host.back() == '.' ? host.substr(0, host.size() - 1) : host;
  if (name.empty())
    return false;
  size_t start = 0;
  while (start <= name.size()) {
    auto dot = name.find('.', start);
    auto label = name.substr(start, dot == std::string_view::npos
                                      ? std::string_view::npos
                                      : dot - start);
    if (label.empty() || label.size() > 63 || label.front() == '-'
        || label.back() == '-')
      return false;
    for (auto c : label)
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_')
        return false;
    if (dot == std::string_view::npos)
      break;
    start = dot + 1;
  }
  return true;
}

} // namespace postern
