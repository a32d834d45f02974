// SPDX-License-Identifier: Apache-2.0
// The DNS half of finding a new account's settings (autoconfig.hpp): SRV
// records (RFC 6186) and, when the operator names a name server, the
// addresses of autoconfig hosts, on a private resolver state.
#include "postern/setup/autoconfig.hpp"

#include "postern/error.hpp"
#include "postern/text.hpp"

#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netdb.h>
#include <netinet/in.h>
#include <resolv.h>

#include <algorithm>
#include <cstring>

namespace postern::setup {

namespace {

caf::error malformed(const char* what = "the DNS answer is malformed") {
  return caf::make_error(ec::protocol_violation, what);
}

/// Calls `each(handle, rr)` for every record of `type` among the first 64
/// of a DNS message's answer section (CNAMEs on the way are skipped); an
/// error of `each`, or a malformed message, ends the walk.
template <class F>
caf::error for_each_answer(const unsigned char* msg, size_t size, int type,
                           F each) {
  if (msg == nullptr || size < NS_HFIXEDSZ || size > 65535)
    return malformed();
  ns_msg handle;
  if (ns_initparse(msg, static_cast<int>(size), &handle) != 0)
    return malformed();
  auto count = ns_msg_count(handle, ns_s_an);
  for (int i = 0; i < count && i < 64; ++i) {
    ns_rr rr;
    if (ns_parserr(&handle, ns_s_an, i, &rr) != 0)
      return malformed();
    if (ns_rr_type(rr) != type)
      continue;
    if (auto err = each(handle, rr))
      return err;
  }
  return caf::none;
}

} // namespace

caf::expected<std::vector<srv_record>> parse_srv_answer(const unsigned char* msg,
                                                        size_t size) {
  std::vector<srv_record> result;
  auto err = for_each_answer(
    msg, size, ns_t_srv, [&](const ns_msg& handle, const ns_rr& rr) {
      if (ns_rr_rdlen(rr) < 7)
        return malformed("an SRV record is too short");
      const unsigned char* rdata = ns_rr_rdata(rr);
      srv_record r;
      r.priority = static_cast<uint16_t>(ns_get16(rdata));
      r.weight = static_cast<uint16_t>(ns_get16(rdata + 2));
      r.port = static_cast<uint16_t>(ns_get16(rdata + 4));
      char name[NS_MAXDNAME];
      if (dn_expand(ns_msg_base(handle), ns_msg_end(handle), rdata + 6, name,
                    sizeof name)
          < 0)
        return malformed("an SRV record's target is malformed");
      r.target = name;
      result.push_back(std::move(r));
      return caf::error{};
    });
  if (err)
    return err;
  return result;
}

std::optional<server_settings> choose_srv(std::vector<srv_record> records,
                                          transport_security security,
                                          std::string_view address) {
  std::stable_sort(records.begin(), records.end(),
                   [](const srv_record& a, const srv_record& b) {
                     if (a.priority != b.priority)
                       return a.priority < b.priority;
                     return a.weight > b.weight;
                   });
  for (auto& r : records) {
    if (r.target.empty() || r.target == ".")
      return std::nullopt; // RFC 6186 §3.4: the service is not offered
    if (r.port == 0)
      continue;
    server_settings s;
    s.host = ascii_lower(r.target);
    if (!s.host.empty() && s.host.back() == '.')
      s.host.pop_back();
    s.port = r.port;
    s.security = security;
    s.username = std::string{address};
    return s;
  }
  return std::nullopt;
}

caf::expected<sockaddr_in> parse_nameserver(std::string_view text) {
  std::string host{text};
  uint16_t port = 53;
  if (auto colon = text.rfind(':'); colon != std::string_view::npos) {
    auto p = parse_port(text.substr(colon + 1));
    if (!p)
      return caf::make_error(ec::invalid_argument,
                             "MAIL_SETUP_DNS has no valid port");
    port = *p;
    host.resize(colon);
  }
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  if (inet_pton(AF_INET, host.c_str(), &sa.sin_addr) != 1)
    return caf::make_error(ec::invalid_argument,
                           "MAIL_SETUP_DNS is not an IPv4 address");
  return sa;
}

bool is_special_use_domain(std::string_view domain) {
  auto d = ascii_lower(domain);
  while (!d.empty() && d.back() == '.')
    d.pop_back();
  if (d.find('.') == std::string::npos)
    return true;
  auto last = d.substr(d.rfind('.') + 1);
  return last == "test" || last == "example" || last == "invalid"
         || last == "localhost" || last == "local";
}

namespace {

/// The answer to one query of `type` for `name` in wire format; empty when
/// the name or the record does not exist.
caf::expected<std::vector<unsigned char>>
query(const std::string& name, int type, const dns_options& o) {
  struct __res_state st;
  std::memset(&st, 0, sizeof st);
  if (res_ninit(&st) != 0)
    return caf::make_error(ec::unspecified, "the DNS resolver could not start");
  // Closed on every path below.
  struct closer {
    struct __res_state* st;
    ~closer() {
      res_nclose(st);
    }
  } close_it{&st};
  st.retrans = static_cast<int>(std::max<int64_t>(1, o.timeout.count()));
  st.retry = 1;
  if (!o.nameserver.empty()) {
    auto sa = parse_nameserver(o.nameserver);
    if (!sa)
      return std::move(sa.error());
    st.nsaddr_list[0] = *sa;
    st.nscount = 1;
  }
  std::vector<unsigned char> answer(8192);
  auto n = res_nquery(&st, name.c_str(), ns_c_in, type, answer.data(),
                      static_cast<int>(answer.size()));
  if (n < 0) {
    if (st.res_h_errno == HOST_NOT_FOUND || st.res_h_errno == NO_DATA)
      return std::vector<unsigned char>{};
    return caf::make_error(ec::connection_failed,
                           "DNS did not answer for " + name);
  }
  answer.resize(std::min(static_cast<size_t>(n), answer.size()));
  return answer;
}

} // namespace

caf::expected<std::vector<srv_record>> query_srv(const std::string& name,
                                                 const dns_options& o) {
  auto answer = query(name, ns_t_srv, o);
  if (!answer)
    return std::move(answer.error());
  if (answer->empty())
    return std::vector<srv_record>{};
  return parse_srv_answer(answer->data(), answer->size());
}

caf::expected<std::vector<std::string>>
parse_address_answer(const unsigned char* msg, size_t size) {
  std::vector<std::string> result;
  auto err = for_each_answer(msg, size, ns_t_a,
                             [&](const ns_msg&, const ns_rr& rr) {
                               if (ns_rr_rdlen(rr) != 4)
                                 return malformed("an A record is not four "
                                                  "bytes");
                               char text[INET_ADDRSTRLEN];
                               if (inet_ntop(AF_INET, ns_rr_rdata(rr), text,
                                             sizeof text)
                                   != nullptr)
                                 result.emplace_back(text);
                               return caf::error{};
                             });
  if (err)
    return err;
  return result;
}

caf::expected<std::vector<std::string>>
query_addresses(const std::string& name, const dns_options& o) {
  auto answer = query(name, ns_t_a, o);
  if (!answer)
    return std::move(answer.error());
  if (answer->empty())
    return std::vector<std::string>{};
  return parse_address_answer(answer->data(), answer->size());
}

std::optional<discovered_settings> srv_settings(std::string_view address,
                                                const dns_options& o) {
  auto domain = address_domain(address);
  if (domain.empty() || (o.nameserver.empty() && is_special_use_domain(domain)))
    return std::nullopt;
  // The first service of `names` that DNS offers, with its security.
  auto first = [&](std::initializer_list<std::pair<const char*,
                                                   transport_security>>
                     names) -> std::optional<server_settings> {
    for (auto& [prefix, security] : names) {
      auto records = query_srv(std::string{prefix} + domain, o);
      if (!records)
        return std::nullopt;
      if (auto s = choose_srv(std::move(*records), security, address))
        return s;
    }
    return std::nullopt;
  };
  auto imap = first({{"_imaps._tcp.", transport_security::tls},
                     {"_imap._tcp.", transport_security::starttls}});
  if (!imap)
    return std::nullopt;
  discovered_settings d;
  d.imap = *imap;
  if (auto smtp = first({{"_submissions._tcp.", transport_security::tls},
                         {"_submission._tcp.", transport_security::starttls}})) {
    d.has_smtp = true;
    d.smtp = *smtp;
  }
  d.source = "srv";
  d.title = domain;
  return d;
}


} // namespace postern::setup
