// SPDX-License-Identifier: Apache-2.0
// The address step's lookups beyond the built-in table (issue 16): the
// domain's SRV records, then its Mozilla-style autoconfig document, on the
// detached helper account_address.cpp spawns for them.
#include "postern/log.hpp"
#include "postern/oauth/uri.hpp"
#include "postern/text.hpp"
#include "shared.hpp"

#include <future>

namespace postern::http::dashboard {

namespace {

/// The settings in the autoconfig document at `url`, or nullopt (logged
/// by its host only: the URL carries the address).
std::optional<setup::discovered_settings>
fetch_autoconfig(const std::string& url, const std::string& address,
                 const settings_lookup& how) {
  auto parts = oauth::split_uri(url);
  if (!parts)
    return std::nullopt;
  fetch_request req;
  req.url = url;
  req.url_noun = "the autoconfig URL of " + parts->host;
  req.document_noun = "the autoconfig document of " + parts->host;
  req.accept = "application/xml, text/xml";
  req.max_bytes = 64 * 1024;
  req.timeout = how.fetch_timeout;
  if (!how.dns.nameserver.empty()) {
    // The operator's name server answers for the host too, so that a
    // test's (or a split-horizon) resolver sees every lookup.
    auto addresses = setup::query_addresses(parts->host, how.dns);
    if (!addresses || addresses->empty())
      return std::nullopt;
    req.addresses = std::move(*addresses);
  }
  auto answer
    = std::make_shared<std::promise<caf::expected<fetched_document>>>();
  auto arrived = answer->get_future();
  how.documents->get(std::move(req),
                     [answer](caf::expected<fetched_document> got) {
                       answer->set_value(std::move(got));
                     });
  // The fetch ends by its own deadline; the wait is a second guard.
  if (arrived.wait_for(how.fetch_timeout + std::chrono::seconds(2))
      != std::future_status::ready)
    return std::nullopt;
  auto got = arrived.get();
  if (!got) {
    POSTERN_DEBUG("web: no autoconfig at {}: {}", parts->host,
                  describe(got.error()));
    return std::nullopt;
  }
  auto d = setup::parse_autoconfig(got->body, address);
  if (!d) {
    POSTERN_INFO("web: the autoconfig document of {} is not usable: {}",
                 parts->host, describe(d.error()));
    return std::nullopt;
  }
  return std::move(*d);
}

} // namespace

std::optional<setup::discovered_settings>
look_up_settings(const std::string& address, const settings_lookup& how) {
  if (auto d = setup::srv_settings(address, how.dns))
    return d;
  auto domain = address_domain(address);
  if (domain.empty() || how.documents == nullptr
      || (how.dns.nameserver.empty() && setup::is_special_use_domain(domain)))
    return std::nullopt;
  for (const auto& url : setup::autoconfig_urls(address, how.autoconfig_port))
    if (auto d = fetch_autoconfig(url, address, how))
      return d;
  return std::nullopt;
}

std::string found_in(const setup::discovered_settings& d,
                     std::string_view address) {
  if (d.source == "table")
    return "with the settings of " + d.title;
  if (d.source == "autoconfig")
    return "from the autoconfig document of " + address_domain(address);
  return "from the DNS records of " + address_domain(address);
}

} // namespace postern::http::dashboard
