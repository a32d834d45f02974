// SPDX-License-Identifier: Apache-2.0
// Who the client is behind trusted proxies: X-Forwarded-For and Forwarded
// (RFC 7239) read from the right. Every byte here is the client's own
// (fuzzed by tests/fuzz/http_fuzz.cpp).
#include "postern/http/forwarded.hpp"

#include "postern/text.hpp"

#include <boost/asio/ip/address.hpp>
#include <boost/beast/core/string.hpp>

#include <optional>

namespace postern::http {

namespace net = boost::asio;
namespace beast = boost::beast;

namespace {

/// Splits a header value at commas (no quoted commas occur in addresses).
template <class F>
void each_element(std::string_view value, F&& f) {
  size_t start = 0;
  while (start <= value.size()) {
    auto end = value.find(',', start);
    if (end == std::string_view::npos)
      end = value.size();
    auto item = trim_blanks(value.substr(start, end - start));
    if (!item.empty())
      f(item);
    start = end + 1;
  }
}

/// The `for=` value of one Forwarded element (RFC 7239), or nullopt.
std::optional<std::string_view> forwarded_for_param(std::string_view element) {
  size_t start = 0;
  while (start <= element.size()) {
    auto end = element.find(';', start);
    if (end == std::string_view::npos)
      end = element.size();
    auto pair = trim_blanks(element.substr(start, end - start));
    auto eq = pair.find('=');
    if (eq == 3 && beast::iequals(beast::string_view{pair.data(), 3}, "for"))
      return pair.substr(4);
    start = end + 1;
  }
  return std::nullopt;
}

} // namespace

std::string parse_hop(std::string_view text) {
  text = trim_blanks(text);
  if (text.size() >= 2 && text.front() == '"' && text.back() == '"')
    text = text.substr(1, text.size() - 2);
  if (!text.empty() && text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string_view::npos)
      return {};
    auto rest = text.substr(close + 1);
    if (!rest.empty() && rest.front() != ':')
      return {};
    text = text.substr(1, close - 1);
  } else if (auto colon = text.find(':');
             colon != std::string_view::npos
             && text.find(':', colon + 1) == std::string_view::npos) {
    text = text.substr(0, colon); // IPv4 with a port
  }
  if (text.empty() || text.size() > 64)
    return {};
  beast::error_code ec;
  auto addr = net::ip::make_address(std::string{text}, ec);
  if (ec)
    return {};
  if (addr.is_v6() && addr.to_v6().is_v4_mapped())
    return net::ip::make_address_v4(net::ip::v4_mapped, addr.to_v6())
      .to_string();
  return addr.to_string();
}

proxy_trust proxy_trust::from(const config& cfg) {
  proxy_trust result;
  result.enabled = cfg.trust_proxy;
  if (auto p = host_policy::parse(cfg.trusted_proxies))
    result.proxies = std::move(*p);
  return result;
}

bool proxy_trust::trusts(std::string_view address) const {
  return !address.empty() && !proxies.allows_address(address);
}

std::vector<std::string> forwarded_chain(const bhttp::fields& headers) {
  std::vector<std::string> chain;
  for (auto& field : headers) {
    auto name = field.name_string();
    auto value = std::string_view{field.value().data(), field.value().size()};
    if (beast::iequals(name, "X-Forwarded-For")) {
      each_element(value, [&](std::string_view hop) {
        chain.push_back(parse_hop(hop));
      });
    } else if (field.name() == bhttp::field::forwarded) {
      each_element(value, [&](std::string_view element) {
        // An element without for= says nothing about the client.
        if (auto hop = forwarded_for_param(element))
          chain.push_back(parse_hop(*hop));
      });
    }
    // Bound the work a client can cause with a huge header list.
    if (chain.size() > 64)
      break;
  }
  return chain;
}

std::string client_address(const std::string& peer,
                           const bhttp::fields& headers,
                           const proxy_trust& trust) {
  if (!trust.enabled || !trust.trusts(parse_hop(peer)))
    return peer;
  auto chain = forwarded_chain(headers);
  auto result = peer;
  for (auto i = chain.rbegin(); i != chain.rend(); ++i) {
    if (i->empty())
      break; // a proxy we trust wrote something else: keep its own address
    result = *i;
    if (!trust.trusts(*i))
      break;
  }
  return result;
}

} // namespace postern::http
