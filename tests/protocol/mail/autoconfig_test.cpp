// SPDX-License-Identifier: Apache-2.0
// Settings from an address alone: the built-in table, RFC 6186 SRV answers
// (a recorded answer in DNS wire format, with name compression and a
// record of another type among them) and Mozilla autoconfig documents.
#include "postern/error.hpp"
#include "postern/setup/autoconfig.hpp"
#include "postern/text.hpp"

#include <gtest/gtest.h>

using namespace postern;
using namespace postern::setup;

namespace {

// _imaps._tcp.example.com SRV: "10 0 143 imap2.example.com.",
// "0 5 993 imap.example.com." and a CNAME, targets compressed against the
// question's name.
const unsigned char srv_answer[] = {
  0x12, 0x34, 0x81, 0x80, 0x00, 0x01, 0x00, 0x03, 0x00, 0x00, 0x00, 0x00,
  0x06, 0x5f, 0x69, 0x6d, 0x61, 0x70, 0x73, 0x04, 0x5f, 0x74, 0x63, 0x70,
  0x07, 0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x03, 0x63, 0x6f, 0x6d,
  0x00, 0x00, 0x21, 0x00, 0x01, 0xc0, 0x0c, 0x00, 0x21, 0x00, 0x01, 0x00,
  0x00, 0x01, 0x2c, 0x00, 0x0e, 0x00, 0x0a, 0x00, 0x00, 0x00, 0x8f, 0x05,
  0x69, 0x6d, 0x61, 0x70, 0x32, 0xc0, 0x18, 0xc0, 0x0c, 0x00, 0x21, 0x00,
  0x01, 0x00, 0x00, 0x01, 0x2c, 0x00, 0x0d, 0x00, 0x00, 0x00, 0x05, 0x03,
  0xe1, 0x04, 0x69, 0x6d, 0x61, 0x70, 0xc0, 0x18, 0xc0, 0x0c, 0x00, 0x05,
  0x00, 0x01, 0x00, 0x00, 0x01, 0x2c, 0x00, 0x06, 0x03, 0x77, 0x77, 0x77,
  0xc0, 0x18};

const char* autoconfig = R"(<?xml version="1.0" encoding="UTF-8"?>
<clientConfig version="1.1">
  <emailProvider id="example.org">
    <domain>example.org</domain>
    <displayName>Example Mail</displayName>
    <incomingServer type="pop3">
      <hostname>pop.example.org</hostname><port>995</port>
      <socketType>SSL</socketType><username>%EMAILADDRESS%</username>
    </incomingServer>
    <incomingServer type="imap">
      <hostname>plain.example.org</hostname><port>143</port>
      <socketType>plain</socketType><username>%EMAILADDRESS%</username>
    </incomingServer>
    <incomingServer type="imap">
      <hostname> IMAP.Example.org </hostname>
      <port>993</port>
      <socketType>SSL</socketType>
      <username>%EMAILLOCALPART%</username>
      <authentication>password-cleartext</authentication>
    </incomingServer>
    <outgoingServer type="smtp">
      <hostname>smtp.example.org</hostname><port>587</port>
      <socketType>STARTTLS</socketType><username>%EMAILLOCALPART%@%EMAILDOMAIN%</username>
    </outgoingServer>
  </emailProvider>
</clientConfig>)";

} // namespace

TEST(autoconfig, the_table_knows_the_big_providers) {
  auto icloud = well_known_settings("Someone@iCloud.com");
  ASSERT_TRUE(icloud);
  EXPECT_EQ(icloud->imap.host, "imap.mail.me.com");
  EXPECT_EQ(icloud->imap.port, 993);
  EXPECT_EQ(icloud->smtp.security, transport_security::starttls);
  EXPECT_EQ(icloud->imap.username, "Someone@iCloud.com");
  EXPECT_EQ(icloud->source, "table");
  EXPECT_TRUE(icloud->oauth_provider.empty());
  auto gmail = well_known_settings("x@gmail.com");
  ASSERT_TRUE(gmail);
  EXPECT_EQ(gmail->oauth_provider, "google");
  auto outlook = well_known_settings("x@hotmail.com");
  ASSERT_TRUE(outlook);
  EXPECT_EQ(outlook->oauth_provider, "microsoft");
  EXPECT_EQ(outlook->smtp.port, 587);
  for (auto a : {"a@fastmail.com", "a@yahoo.com", "a@gmx.de", "a@web.de",
                 "a@mailbox.org", "a@zoho.com", "a@posteo.de", "a@aol.com"})
    EXPECT_TRUE(well_known_settings(a)) << a;
  EXPECT_FALSE(well_known_settings("a@example.org"));
  EXPECT_FALSE(well_known_settings("no-domain"));
  EXPECT_FALSE(well_known_settings("trailing@"));
}

TEST(autoconfig, srv_answers_pick_the_best_record) {
  auto records = parse_srv_answer(srv_answer, sizeof srv_answer);
  ASSERT_TRUE(records) << describe(records.error());
  ASSERT_EQ(records->size(), 2u); // the CNAME is not an SRV record
  EXPECT_EQ((*records)[0].target, "imap2.example.com");
  EXPECT_EQ((*records)[0].port, 143);
  auto best = choose_srv(*records, transport_security::tls, "me@example.com");
  ASSERT_TRUE(best);
  EXPECT_EQ(best->host, "imap.example.com");
  EXPECT_EQ(best->port, 993);
  EXPECT_EQ(best->security, transport_security::tls);
  EXPECT_EQ(best->username, "me@example.com");
  // "." means the service is not offered (RFC 6186 §3.4).
  EXPECT_FALSE(choose_srv({{0, 0, 0, "."}}, transport_security::tls, "a@b"));
  EXPECT_FALSE(choose_srv({}, transport_security::tls, "a@b"));
  // Equal priority: the higher weight first.
  auto weighted = choose_srv({{1, 1, 587, "a.example."}, {1, 9, 587, "b.example."}},
                             transport_security::starttls, "x@example");
  ASSERT_TRUE(weighted);
  EXPECT_EQ(weighted->host, "b.example");
}

TEST(autoconfig, malformed_dns_answers_are_errors) {
  EXPECT_FALSE(parse_srv_answer(nullptr, 0));
  EXPECT_FALSE(parse_srv_answer(srv_answer, 5));
  // Every truncation is an error or fewer records, never a crash.
  for (size_t n = 12; n < sizeof srv_answer; ++n) {
    auto r = parse_srv_answer(srv_answer, n);
    if (r) {
      EXPECT_LT(r->size(), 2u) << n;
    }
  }
  // A compression pointer that points at itself.
  unsigned char loop[sizeof srv_answer];
  std::copy(std::begin(srv_answer), std::end(srv_answer), loop);
  loop[65] = 0xc0;
  loop[66] = 65; // the first target's pointer now points at itself
  auto looped = parse_srv_answer(loop, sizeof loop);
  EXPECT_FALSE(looped);
}

TEST(autoconfig, documents_give_the_first_secure_servers) {
  auto d = parse_autoconfig(autoconfig, "me@example.org");
  ASSERT_TRUE(d) << describe(d.error());
  EXPECT_EQ(d->source, "autoconfig");
  EXPECT_EQ(d->title, "Example Mail");
  // pop3 and the plain IMAP server are skipped; spaces and case tidied.
  EXPECT_EQ(d->imap.host, "imap.example.org");
  EXPECT_EQ(d->imap.port, 993);
  EXPECT_EQ(d->imap.security, transport_security::tls);
  EXPECT_EQ(d->imap.username, "me");
  ASSERT_TRUE(d->has_smtp);
  EXPECT_EQ(d->smtp.security, transport_security::starttls);
  EXPECT_EQ(d->smtp.username, "me@example.org");
}

TEST(autoconfig, bad_documents_are_errors_with_a_sentence) {
  auto sentence = [](std::string_view xml) {
    auto r = parse_autoconfig(xml, "me@example.org");
    return r ? std::string{"ok"} : describe(r.error());
  };
  EXPECT_NE(sentence("").find("not well-formed"), std::string::npos);
  EXPECT_NE(sentence("<clientConfig><emailProvider>").find("not well-formed"),
            std::string::npos);
  EXPECT_NE(sentence("<clientConfig/>").find("no IMAP server"),
            std::string::npos);
  EXPECT_NE(sentence(R"(<!DOCTYPE lol [<!ENTITY a "aaaa">]><clientConfig>&a;</clientConfig>)")
              .find("DTD"),
            std::string::npos);
  std::string deep = "<clientConfig>";
  for (int i = 0; i < 100; ++i)
    deep += "<x>";
  EXPECT_NE(sentence(deep).find("nests too deep"), std::string::npos);
  EXPECT_NE(sentence(std::string(70 * 1024, ' ')).find("64 KiB"),
            std::string::npos);
  // Port out of range, missing host: that server is skipped.
  EXPECT_NE(sentence(R"(<clientConfig><emailProvider><incomingServer type="imap">
    <hostname>h</hostname><port>99999</port><socketType>SSL</socketType>
    </incomingServer></emailProvider></clientConfig>)")
              .find("no IMAP server"),
            std::string::npos);
}

TEST(autoconfig, special_use_domains_are_never_asked_of_public_dns) {
  using postern::setup::is_special_use_domain;
  for (auto d : {"example.test", "EXAMPLE.TEST.", "mail.example", "x.invalid",
                 "localhost", "printer.local", "intranet"})
    EXPECT_TRUE(is_special_use_domain(d)) << d;
  for (auto d : {"example.com", "fastmail.com", "mail.example.org", "test.de"})
    EXPECT_FALSE(is_special_use_domain(d)) << d;
  // With the system's resolver such an address makes no query at all.
  postern::setup::dns_options system;
  EXPECT_FALSE(postern::setup::srv_settings("me@example.test", system));
}

TEST(autoconfig, a_dns_server_that_does_not_answer_is_an_error) {
  // Nothing listens on port 9 of loopback: the query fails, quickly.
  postern::setup::dns_options dead;
  dead.nameserver = "127.0.0.1:9";
  dead.timeout = std::chrono::seconds(1);
  auto got = postern::setup::query_srv("_imaps._tcp.example.com", dead);
  EXPECT_FALSE(got);
  EXPECT_FALSE(postern::setup::srv_settings("me@example.com", dead));
  dead.nameserver = "not-an-address";
  EXPECT_FALSE(postern::setup::query_srv("_imaps._tcp.example.com", dead));
}

TEST(autoconfig, name_servers_and_ports_are_read_strictly) {
  auto ns = parse_nameserver("127.0.0.1:5353");
  ASSERT_TRUE(ns);
  EXPECT_EQ(ntohs(ns->sin_port), 5353);
  EXPECT_EQ(ntohs(parse_nameserver("192.0.2.1")->sin_port), 53);
  for (auto bad : {"", "localhost", "127.0.0.1:", "127.0.0.1:0",
                   "127.0.0.1:65536", "127.0.0.1:53x", "::1", "1.2.3:53"})
    EXPECT_FALSE(parse_nameserver(bad)) << bad;
  EXPECT_EQ(parse_port("993"), uint16_t{993});
  EXPECT_EQ(parse_port("65535"), uint16_t{65535});
  for (auto bad : {"", "0", "65536", "099999", "-1", "+1", " 1", "1 ", "x"})
    EXPECT_FALSE(parse_port(bad)) << bad;
}

TEST(autoconfig, a_records_are_read_past_a_cname) {
  // autoconfig.example.com: a CNAME to host.example.com (compressed), then
  // its A record 192.0.2.7.
  const unsigned char answer[] = {
    0x00, 0x01, 0x81, 0x80, 0x00, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00,
    // question: autoconfig.example.com A IN
    0x0a, 'a', 'u', 't', 'o', 'c', 'o', 'n', 'f', 'i', 'g', 0x07, 'e', 'x',
    'a', 'm', 'p', 'l', 'e', 0x03, 'c', 'o', 'm', 0x00, 0x00, 0x01, 0x00,
    0x01,
    // CNAME -> host.<example.com at offset 23>
    0xc0, 0x0c, 0x00, 0x05, 0x00, 0x01, 0x00, 0x00, 0x01, 0x2c, 0x00, 0x07,
    0x04, 'h', 'o', 's', 't', 0xc0, 0x17,
    // host.example.com A 192.0.2.7 (name at the CNAME's target, offset 52)
    0xc0, 0x34, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x01, 0x2c, 0x00, 0x04,
    0xc0, 0x00, 0x02, 0x07};
  auto got = parse_address_answer(answer, sizeof answer);
  ASSERT_TRUE(got) << describe(got.error());
  ASSERT_EQ(got->size(), 1u);
  EXPECT_EQ(got->front(), "192.0.2.7");
  // Every truncation is an error or fewer records, never a crash.
  for (size_t n = 0; n < sizeof answer; ++n) {
    auto cut = parse_address_answer(answer, n);
    EXPECT_TRUE(!cut || cut->empty()) << n;
  }
  // An A record of the wrong length is an error.
  auto wrong = std::vector<unsigned char>(answer, answer + sizeof answer);
  wrong[sizeof answer - 5] = 0x05;
  wrong.push_back(0x01);
  EXPECT_FALSE(parse_address_answer(wrong.data(), wrong.size()));
}

TEST(autoconfig, documents_are_looked_for_where_thunderbird_looks) {
  auto urls = autoconfig_urls("Me+x@Example.org");
  ASSERT_EQ(urls.size(), 2u);
  EXPECT_EQ(urls[0], "https://autoconfig.example.org/mail/config-v1.1.xml"
                     "?emailaddress=Me%2Bx%40Example.org");
  EXPECT_EQ(urls[1],
            "https://example.org/.well-known/autoconfig/mail/config-v1.1.xml");
  EXPECT_EQ(autoconfig_urls("me@example.org", 8443)[1],
            "https://example.org:8443/.well-known/autoconfig/mail/"
            "config-v1.1.xml");
  EXPECT_TRUE(autoconfig_urls("no-domain").empty());
}
