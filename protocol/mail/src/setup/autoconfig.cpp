// SPDX-License-Identifier: Apache-2.0
#include "postern/setup/autoconfig.hpp"

#include "postern/error.hpp"
#include "postern/text.hpp"

#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <expat.h>
#include <netdb.h>
#include <netinet/in.h>
#include <resolv.h>

#include <algorithm>
#include <cstring>
#include <map>

namespace postern::setup {

namespace {

caf::error not_found(std::string sentence) {
  return caf::make_error(ec::invalid_argument, std::move(sentence));
}

struct table_entry {
  std::vector<std::string_view> domains;
  std::string_view title;
  server_settings imap;
  server_settings smtp;
  std::string_view oauth_provider;
};

/// Providers whose settings do not change: their published IMAP and SMTP
/// servers (submission with TLS where they offer it).
const std::vector<table_entry>& table() {
  using ts = transport_security;
  static const std::vector<table_entry> entries = {
    {{"gmail.com", "googlemail.com"}, "Gmail",
     {"imap.gmail.com", 993, ts::tls, ""}, {"smtp.gmail.com", 465, ts::tls, ""},
     "google"},
    {{"outlook.com", "hotmail.com", "live.com", "msn.com"}, "Outlook.com",
     {"outlook.office365.com", 993, ts::tls, ""},
     {"smtp.office365.com", 587, ts::starttls, ""}, "microsoft"},
    {{"icloud.com", "me.com", "mac.com"}, "iCloud Mail",
     {"imap.mail.me.com", 993, ts::tls, ""},
     {"smtp.mail.me.com", 587, ts::starttls, ""}, ""},
    {{"fastmail.com", "fastmail.fm"}, "Fastmail",
     {"imap.fastmail.com", 993, ts::tls, ""},
     {"smtp.fastmail.com", 465, ts::tls, ""}, ""},
    {{"yahoo.com", "ymail.com", "rocketmail.com"}, "Yahoo Mail",
     {"imap.mail.yahoo.com", 993, ts::tls, ""},
     {"smtp.mail.yahoo.com", 465, ts::tls, ""}, ""},
    {{"aol.com"}, "AOL Mail", {"imap.aol.com", 993, ts::tls, ""},
     {"smtp.aol.com", 465, ts::tls, ""}, ""},
    {{"gmx.de", "gmx.net", "gmx.at", "gmx.ch"}, "GMX",
     {"imap.gmx.net", 993, ts::tls, ""}, {"mail.gmx.net", 587, ts::starttls, ""},
     ""},
    {{"gmx.com"}, "GMX", {"imap.gmx.com", 993, ts::tls, ""},
     {"mail.gmx.com", 587, ts::starttls, ""}, ""},
    {{"web.de"}, "WEB.DE", {"imap.web.de", 993, ts::tls, ""},
     {"smtp.web.de", 587, ts::starttls, ""}, ""},
    {{"mailbox.org"}, "mailbox.org", {"imap.mailbox.org", 993, ts::tls, ""},
     {"smtp.mailbox.org", 465, ts::tls, ""}, ""},
    {{"posteo.de", "posteo.net"}, "Posteo", {"posteo.de", 993, ts::tls, ""},
     {"posteo.de", 587, ts::starttls, ""}, ""},
    {{"zoho.com", "zohomail.com"}, "Zoho Mail",
     {"imap.zoho.com", 993, ts::tls, ""}, {"smtp.zoho.com", 465, ts::tls, ""},
     ""},
  };
  return entries;
}

/// %EMAILADDRESS%, %EMAILLOCALPART% and %EMAILDOMAIN% filled in.
std::string fill_login(std::string pattern, std::string_view address) {
  auto at = address.rfind('@');
  auto local = std::string{address.substr(0, at)};
  auto domain = at == std::string_view::npos
                  ? std::string{}
                  : std::string{address.substr(at + 1)};
  auto replace = [&](std::string_view key, const std::string& value) {
    for (auto pos = pattern.find(key); pos != std::string::npos;
         pos = pattern.find(key, pos + value.size()))
      pattern.replace(pos, key.size(), value);
  };
  replace("%EMAILADDRESS%", std::string{address});
  replace("%EMAILLOCALPART%", local);
  replace("%EMAILDOMAIN%", domain);
  return pattern;
}

/// The autoconfig reader's state: where in the document it is and the
/// servers seen so far.
struct autoconfig_reader {
  struct server {
    std::string type;
    std::map<std::string, std::string> fields;
  };
  std::vector<std::string> path;
  std::vector<server> incoming;
  std::vector<server> outgoing;
  std::string text;
  std::string provider_name;
  bool refused = false;
  XML_Parser parser = nullptr;

  /// The server whose field is being read (clientConfig / emailProvider /
  /// incomingServer / field).
  server* current() {
    if (path.size() != 4)
      return nullptr;
    auto& element = path[path.size() - 2];
    if (element == "incomingServer" && !incoming.empty())
      return &incoming.back();
    if (element == "outgoingServer" && !outgoing.empty())
      return &outgoing.back();
    return nullptr;
  }

  static void on_start(void* data, const XML_Char* name,
                       const XML_Char** attributes) {
    auto& r = *static_cast<autoconfig_reader*>(data);
    std::string element = name;
    if (r.path.size() > 16) { // nothing in the format nests this deep
      r.refused = true;
      XML_StopParser(r.parser, XML_FALSE);
      return;
    }
    r.path.push_back(element);
    r.text.clear();
    if ((element == "incomingServer" || element == "outgoingServer")
        && r.path.size() == 3) {
      server s;
      for (auto* a = attributes; a != nullptr && a[0] != nullptr; a += 2)
        if (std::string_view{a[0]} == "type")
          s.type = a[1];
      (element == "incomingServer" ? r.incoming : r.outgoing)
        .push_back(std::move(s));
    }
  }

  static void on_end(void* data, const XML_Char*) {
    auto& r = *static_cast<autoconfig_reader*>(data);
    if (auto* s = r.current())
      s->fields.emplace(r.path.back(), r.text);
    if (r.path.size() == 3 && r.path.back() == "displayName")
      r.provider_name = r.text;
    if (!r.path.empty())
      r.path.pop_back();
    r.text.clear();
  }

  static void on_text(void* data, const XML_Char* s, int len) {
    auto& r = *static_cast<autoconfig_reader*>(data);
    if (r.text.size() + static_cast<size_t>(len) <= 1024)
      r.text.append(s, static_cast<size_t>(len));
  }

  static void on_doctype(void* data, const XML_Char*, const XML_Char*,
                         const XML_Char*, int) {
    // No DTDs: entities are the classic way to make a parser explode.
    auto& r = *static_cast<autoconfig_reader*>(data);
    r.refused = true;
    XML_StopParser(r.parser, XML_FALSE);
  }
};

std::string trimmed(const std::string& s) {
  auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos)
    return {};
  auto e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

/// The first server of `type` with TLS or STARTTLS, as settings.
std::optional<server_settings>
pick(const std::vector<autoconfig_reader::server>& servers,
     std::string_view type, std::string_view address) {
  for (auto& s : servers) {
    if (ascii_lower(s.type) != type)
      continue;
    auto field = [&](const char* name) {
      auto i = s.fields.find(name);
      return i == s.fields.end() ? std::string{} : trimmed(i->second);
    };
    auto socket = ascii_lower(field("socketType"));
    std::optional<transport_security> security;
    if (socket == "ssl" || socket == "tls")
      security = transport_security::tls;
    else if (socket == "starttls")
      security = transport_security::starttls;
    auto host = field("hostname");
    auto port_text = field("port");
    if (!security || host.empty() || host.size() > 253 || port_text.empty()
        || port_text.size() > 5
        || port_text.find_first_not_of("0123456789") != std::string::npos)
      continue;
    auto port = std::stoul(port_text);
    if (port == 0 || port > 65535)
      continue;
    server_settings out;
    out.host = ascii_lower(host);
    out.port = static_cast<uint16_t>(port);
    out.security = *security;
    auto login = field("username");
    out.username = login.empty() ? std::string{address}
                                 : fill_login(login, address);
    return out;
  }
  return std::nullopt;
}

} // namespace

std::optional<discovered_settings>
well_known_settings(std::string_view address) {
  auto domain = address_domain(address);
  if (domain.empty())
    return std::nullopt;
  for (auto& e : table()) {
    if (std::find(e.domains.begin(), e.domains.end(), domain)
        == e.domains.end())
      continue;
    discovered_settings d;
    d.imap = e.imap;
    d.imap.username = std::string{address};
    d.has_smtp = true;
    d.smtp = e.smtp;
    d.smtp.username = std::string{address};
    d.source = "table";
    d.oauth_provider = std::string{e.oauth_provider};
    d.title = std::string{e.title};
    return d;
  }
  return std::nullopt;
}

caf::expected<std::vector<srv_record>> parse_srv_answer(const unsigned char* msg,
                                                        size_t size) {
  if (msg == nullptr || size < NS_HFIXEDSZ || size > 65535)
    return caf::make_error(ec::protocol_violation, "the DNS answer is malformed");
  ns_msg handle;
  if (ns_initparse(msg, static_cast<int>(size), &handle) != 0)
    return caf::make_error(ec::protocol_violation, "the DNS answer is malformed");
  std::vector<srv_record> result;
  auto count = ns_msg_count(handle, ns_s_an);
  for (int i = 0; i < count && i < 64; ++i) {
    ns_rr rr;
    if (ns_parserr(&handle, ns_s_an, i, &rr) != 0)
      return caf::make_error(ec::protocol_violation,
                             "the DNS answer is malformed");
    if (ns_rr_type(rr) != ns_t_srv)
      continue; // a CNAME on the way, say
    if (ns_rr_rdlen(rr) < 7)
      return caf::make_error(ec::protocol_violation,
                             "an SRV record is too short");
    const unsigned char* rdata = ns_rr_rdata(rr);
    srv_record r;
    r.priority = static_cast<uint16_t>(ns_get16(rdata));
    r.weight = static_cast<uint16_t>(ns_get16(rdata + 2));
    r.port = static_cast<uint16_t>(ns_get16(rdata + 4));
    char name[NS_MAXDNAME];
    if (dn_expand(ns_msg_base(handle), ns_msg_end(handle), rdata + 6, name,
                  sizeof name)
        < 0)
      return caf::make_error(ec::protocol_violation,
                             "an SRV record's target is malformed");
    r.target = name;
    result.push_back(std::move(r));
  }
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

caf::expected<std::vector<srv_record>> query_srv(const std::string& name,
                                                 const dns_options& o) {
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
    auto text = o.nameserver;
    uint16_t port = 53;
    if (auto colon = text.rfind(':'); colon != std::string::npos) {
      auto p = text.substr(colon + 1);
      text.resize(colon);
      if (p.empty() || p.size() > 5
          || p.find_first_not_of("0123456789") != std::string::npos
          || std::stoul(p) == 0 || std::stoul(p) > 65535)
        return caf::make_error(ec::invalid_argument,
                               "MAIL_SETUP_DNS has no valid port");
      port = static_cast<uint16_t>(std::stoul(p));
    }
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    if (inet_pton(AF_INET, text.c_str(), &sa.sin_addr) != 1)
      return caf::make_error(ec::invalid_argument,
                             "MAIL_SETUP_DNS is not an IPv4 address");
    st.nsaddr_list[0] = sa;
    st.nscount = 1;
  }
  std::vector<unsigned char> answer(8192);
  auto n = res_nquery(&st, name.c_str(), ns_c_in, ns_t_srv, answer.data(),
                      static_cast<int>(answer.size()));
  if (n < 0) {
    if (st.res_h_errno == HOST_NOT_FOUND || st.res_h_errno == NO_DATA)
      return std::vector<srv_record>{};
    return caf::make_error(ec::connection_failed,
                           "DNS did not answer for " + name);
  }
  return parse_srv_answer(answer.data(),
                          std::min(static_cast<size_t>(n), answer.size()));
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

caf::expected<discovered_settings> parse_autoconfig(std::string_view xml,
                                                    std::string_view address) {
  if (xml.size() > 64 * 1024)
    return not_found("the autoconfig document is larger than 64 KiB");
  autoconfig_reader reader;
  auto* parser = XML_ParserCreate("UTF-8");
  if (parser == nullptr)
    return caf::make_error(ec::unspecified, "out of memory");
  reader.parser = parser;
  XML_SetUserData(parser, &reader);
  XML_SetElementHandler(parser, &autoconfig_reader::on_start,
                        &autoconfig_reader::on_end);
  XML_SetCharacterDataHandler(parser, &autoconfig_reader::on_text);
  XML_SetStartDoctypeDeclHandler(parser, &autoconfig_reader::on_doctype);
  auto ok = XML_Parse(parser, xml.data(), static_cast<int>(xml.size()),
                      XML_TRUE)
            == XML_STATUS_OK;
  XML_ParserFree(parser);
  if (reader.refused)
    return not_found("the autoconfig document has a DTD or nests too deep");
  if (!ok)
    return not_found("the autoconfig document is not well-formed XML");
  discovered_settings d;
  auto imap = pick(reader.incoming, "imap", address);
  if (!imap)
    return not_found("the autoconfig document names no IMAP server with TLS "
                     "or STARTTLS");
  d.imap = *imap;
  if (auto smtp = pick(reader.outgoing, "smtp", address)) {
    d.has_smtp = true;
    d.smtp = *smtp;
  }
  d.source = "autoconfig";
  d.title = reader.provider_name.substr(0, 100);
  return d;
}

} // namespace postern::setup
