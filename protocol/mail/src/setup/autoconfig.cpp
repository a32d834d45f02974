// SPDX-License-Identifier: Apache-2.0
#include "postern/setup/autoconfig.hpp"

#include "postern/error.hpp"
#include "postern/text.hpp"

#include <expat.h>

#include <algorithm>
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
    auto port = parse_port(field("port"));
    if (!security || host.empty() || host.size() > 253 || !port)
      continue;
    server_settings out;
    out.host = ascii_lower(host);
    out.port = *port;
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

std::vector<std::string> autoconfig_urls(std::string_view address,
                                         uint16_t port) {
  auto domain = address_domain(address);
  if (domain.empty())
    return {};
  auto at = port == 443 ? std::string{} : ":" + std::to_string(port);
  return {"https://autoconfig." + domain + at
            + "/mail/config-v1.1.xml?emailaddress="
            + percent_encode(address),
          "https://" + domain + at
            + "/.well-known/autoconfig/mail/config-v1.1.xml"};
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
