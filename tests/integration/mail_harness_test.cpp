// SPDX-License-Identifier: Apache-2.0
// Proves the test mail environment (tests/mail/) and the certificate check
// that Postern relies on: libetpan against the real Dovecot and Postfix that
// the CTest fixture mail_servers starts, every TLS connection verified with
// postern::imap::verify_peer_certificate against the fixture's test CA.

#include "postern/error.hpp"
#include "postern/imap/tls_verify.hpp"
#include "support/mail_env.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <libetpan/libetpan.h>
#include <netinet/in.h>
#include <rapidjson/document.h>
#include <rapidjson/istreamwrapper.h>
#include <sys/socket.h>

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace {

using postern::test::mail_env;

constexpr time_t io_timeout_secs = 10;
constexpr auto delivery_deadline = std::chrono::seconds(10);

// -- RAII for libetpan objects --------------------------------------------

struct imap_free_fn {
  void operator()(mailimap* s) const noexcept {
    mailimap_free(s); // also closes the stream
  }
};
using imap_ptr = std::unique_ptr<mailimap, imap_free_fn>;

struct smtp_free_fn {
  void operator()(mailsmtp* s) const noexcept {
    mailsmtp_free(s);
  }
};
using smtp_ptr = std::unique_ptr<mailsmtp, smtp_free_fn>;

struct set_free_fn {
  void operator()(mailimap_set* s) const noexcept {
    mailimap_set_free(s);
  }
};
using set_ptr = std::unique_ptr<mailimap_set, set_free_fn>;

struct fetch_type_free_fn {
  void operator()(mailimap_fetch_type* t) const noexcept {
    mailimap_fetch_type_free(t);
  }
};
using fetch_type_ptr = std::unique_ptr<mailimap_fetch_type, fetch_type_free_fn>;

struct fetch_list_free_fn {
  void operator()(clist* l) const noexcept {
    mailimap_fetch_list_free(l);
  }
};
using fetch_list_ptr = std::unique_ptr<clist, fetch_list_free_fn>;

struct search_key_free_fn {
  void operator()(mailimap_search_key* k) const noexcept {
    mailimap_search_key_free(k);
  }
};
using search_key_ptr = std::unique_ptr<mailimap_search_key, search_key_free_fn>;

struct search_result_free_fn {
  void operator()(clist* l) const noexcept {
    mailimap_search_result_free(l);
  }
};
using search_result_ptr = std::unique_ptr<clist, search_result_free_fn>;

struct malloc_free_fn {
  void operator()(char* p) const noexcept {
    std::free(p);
  }
};
using malloc_string = std::unique_ptr<char, malloc_free_fn>;

// libetpan takes ownership of strings it frees with free().
char* dup(const std::string& s) {
  return strdup(s.c_str());
}

std::string response_of(mailimap* s) {
  return s != nullptr && s->imap_response != nullptr ? s->imap_response : "";
}

std::string response_of(mailsmtp* s) {
  return s != nullptr && s->response != nullptr ? s->response : "";
}

// Decodes RFC 2047 words; raw 8-bit bytes outside them are taken as UTF-8.
std::string decode_header_value(const char* raw) {
  size_t index = 0;
  char* out = nullptr;
  if (mailmime_encoded_phrase_parse("utf-8", raw, std::strlen(raw), &index,
                                    "utf-8", &out)
      != MAILIMF_NO_ERROR)
    return raw;
  malloc_string owner{out};
  return out;
}

// A connected socket from `source` (e.g. 127.0.0.2) to host:port, or -1.
int connect_from(const char* source, const std::string& host, uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0)
    return -1;
  sockaddr_in local{};
  local.sin_family = AF_INET;
  sockaddr_in remote{};
  remote.sin_family = AF_INET;
  remote.sin_port = htons(port);
  if (inet_pton(AF_INET, source, &local.sin_addr) != 1
      || inet_pton(AF_INET, host.c_str(), &remote.sin_addr) != 1
      || bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0
      || connect(fd, reinterpret_cast<sockaddr*>(&remote), sizeof remote)
           != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

std::string unique_message_id(const char* what) {
  static std::atomic<unsigned> counter{0};
  auto now = std::chrono::system_clock::now().time_since_epoch();
  return "<harness-" + std::string{what} + "-" + std::to_string(getpid()) + "-"
         + std::to_string(
           std::chrono::duration_cast<std::chrono::nanoseconds>(now).count())
         + "-" + std::to_string(++counter) + "@example.test>";
}

struct envelope_row {
  uint32_t uid = 0;
  std::optional<std::string> subject;    // raw ENVELOPE subject; nullopt: NIL
  std::optional<std::string> message_id; // nullopt: NIL
  std::string from_mailbox;              // local part of the first From
  std::string subject_header;            // BODY[HEADER.FIELDS (SUBJECT)]
};

// -- the fixture ------------------------------------------------------------

class mail_harness : public ::testing::Test {
protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(env_.load());
    host_ = env_.get("MAIL_HOST");
    ca_file_ = env_.get("CA_FILE");
    ASSERT_FALSE(host_.empty());
    ASSERT_FALSE(ca_file_.empty());
  }

  imap_ptr new_imap() const {
    imap_ptr s{mailimap_new(0, nullptr)};
    if (s)
      mailimap_set_timeout(s.get(), io_timeout_secs);
    return s;
  }

  // Plain connect to IMAP_PORT, then STARTTLS; does not verify.
  void imap_starttls(imap_ptr& s) const {
    s = new_imap();
    ASSERT_TRUE(s);
    int r = mailimap_socket_connect(s.get(), host_.c_str(),
                                    env_.port("IMAP_PORT"));
    ASSERT_EQ(r, MAILIMAP_NO_ERROR_NON_AUTHENTICATED)
      << "IMAP connect to " << host_ << ":" << env_.get("IMAP_PORT");
    r = mailimap_socket_starttls(s.get());
    ASSERT_EQ(r, MAILIMAP_NO_ERROR) << "STARTTLS: " << response_of(s.get());
  }

  // STARTTLS, verify against CA_FILE, LOGIN.
  void imap_login(imap_ptr& s, const std::string& user,
                  const std::string& pass) const {
    ASSERT_NO_FATAL_FAILURE(imap_starttls(s));
    auto err = postern::imap::verify_peer_certificate(s->imap_stream, host_,
                                                      ca_file_);
    ASSERT_FALSE(err) << postern::render(err);
    int r = mailimap_login(s.get(), user.c_str(), pass.c_str());
    ASSERT_EQ(r, MAILIMAP_NO_ERROR)
      << "LOGIN " << user << ": " << response_of(s.get());
  }

  static std::vector<uint32_t> uid_search(mailimap* s,
                                          mailimap_search_key* key) {
    search_key_ptr owner{key};
    clist* raw = nullptr;
    std::vector<uint32_t> uids;
    if (mailimap_uid_search(s, nullptr, key, &raw) != MAILIMAP_NO_ERROR)
      return uids;
    search_result_ptr result{raw};
    for (auto* it = clist_begin(raw); it != nullptr; it = clist_next(it))
      uids.push_back(*static_cast<uint32_t*>(clist_content(it)));
    return uids;
  }

  static std::vector<envelope_row>
  fetch_envelopes(mailimap* s, const std::vector<uint32_t>& uids, int* rc) {
    std::vector<envelope_row> rows;
    set_ptr set{mailimap_set_new_empty()};
    for (auto uid : uids)
      mailimap_set_add_single(set.get(), uid);
    fetch_type_ptr type{mailimap_fetch_type_new_fetch_att_list_empty()};
    mailimap_fetch_type_new_fetch_att_list_add(type.get(),
                                               mailimap_fetch_att_new_uid());
    mailimap_fetch_type_new_fetch_att_list_add(
      type.get(), mailimap_fetch_att_new_envelope());
    auto* names = clist_new();
    clist_append(names, dup("Subject"));
    mailimap_fetch_type_new_fetch_att_list_add(
      type.get(),
      mailimap_fetch_att_new_body_peek_section(
        mailimap_section_new_header_fields(mailimap_header_list_new(names))));
    clist* raw = nullptr;
    *rc = mailimap_uid_fetch(s, set.get(), type.get(), &raw);
    if (*rc != MAILIMAP_NO_ERROR)
      return rows;
    fetch_list_ptr result{raw};
    for (auto* it = clist_begin(raw); it != nullptr; it = clist_next(it)) {
      auto* msg = static_cast<mailimap_msg_att*>(clist_content(it));
      envelope_row row;
      for (auto* j = clist_begin(msg->att_list); j != nullptr;
           j = clist_next(j)) {
        auto* item = static_cast<mailimap_msg_att_item*>(clist_content(j));
        if (item->att_type != MAILIMAP_MSG_ATT_ITEM_STATIC)
          continue;
        auto* att = item->att_data.att_static;
        if (att->att_type == MAILIMAP_MSG_ATT_UID) {
          row.uid = att->att_data.att_uid;
        } else if (att->att_type == MAILIMAP_MSG_ATT_ENVELOPE) {
          auto* e = att->att_data.att_env;
          if (e->env_subject != nullptr)
            row.subject = e->env_subject;
          if (e->env_message_id != nullptr)
            row.message_id = e->env_message_id;
          if (e->env_from != nullptr && e->env_from->frm_list != nullptr
              && !clist_isempty(e->env_from->frm_list)) {
            auto* a = static_cast<mailimap_address*>(
              clist_content(clist_begin(e->env_from->frm_list)));
            if (a != nullptr && a->ad_mailbox_name != nullptr)
              row.from_mailbox = a->ad_mailbox_name;
          }
        } else if (att->att_type == MAILIMAP_MSG_ATT_BODY_SECTION) {
          auto* body = att->att_data.att_body_section;
          if (body->sec_body_part != nullptr)
            row.subject_header.assign(body->sec_body_part, body->sec_length);
        }
      }
      rows.push_back(std::move(row));
    }
    return rows;
  }

  // Message-ID -> decoded subject (nullopt: no Subject header) of a folder in
  // the corpus manifest that seed.py wrote.
  std::map<std::string, std::optional<std::string>>
  manifest_subjects(const std::string& user, const char* folder) const {
    std::map<std::string, std::optional<std::string>> result;
    std::ifstream in(env_.get("CORPUS_FILE"));
    if (!in)
      return result;
    rapidjson::IStreamWrapper wrapper(in);
    rapidjson::Document doc;
    doc.ParseStream(wrapper);
    if (doc.HasParseError() || !doc.IsObject())
      return result;
    auto u = doc.FindMember(user.c_str());
    if (u == doc.MemberEnd() || !u->value.IsObject())
      return result;
    auto f = u->value.FindMember(folder);
    if (f == u->value.MemberEnd() || !f->value.IsArray())
      return result;
    for (const auto& m : f->value.GetArray()) {
      if (!m.IsObject() || !m.HasMember("message_id")
          || !m["message_id"].IsString() || !m.HasMember("subject"))
        continue;
      std::optional<std::string> subject;
      if (m["subject"].IsString())
        subject = m["subject"].GetString();
      result[m["message_id"].GetString()] = subject;
    }
    return result;
  }

  // -- SMTP ------------------------------------------------------------------

  smtp_ptr new_smtp() const {
    smtp_ptr s{mailsmtp_new(0, nullptr)};
    if (s)
      mailsmtp_set_timeout(s.get(), io_timeout_secs);
    return s;
  }

  // Connected, TLS up (STARTTLS on SUBMISSION_PORT or implicit on
  // SMTPS_PORT), certificate verified against CA_FILE, EHLO done.
  void smtp_open(smtp_ptr& s, bool implicit_tls) const {
    s = new_smtp();
    ASSERT_TRUE(s);
    auto port = env_.port(implicit_tls ? "SMTPS_PORT" : "SUBMISSION_PORT");
    int r = implicit_tls
              ? mailsmtp_ssl_connect(s.get(), host_.c_str(), port)
              : mailsmtp_socket_connect(s.get(), host_.c_str(), port);
    ASSERT_EQ(r, MAILSMTP_NO_ERROR)
      << "SMTP connect to port " << port << ": " << mailsmtp_strerror(r);
    r = mailsmtp_init(s.get()); // EHLO (HELO as fallback)
    ASSERT_EQ(r, MAILSMTP_NO_ERROR) << "EHLO: " << response_of(s.get());
    if (!implicit_tls) {
      EXPECT_EQ(s->auth & MAILSMTP_AUTH_PLAIN, 0)
        << "submission must not offer AUTH before STARTTLS";
      r = mailsmtp_socket_starttls(s.get());
      ASSERT_EQ(r, MAILSMTP_NO_ERROR) << "STARTTLS: " << response_of(s.get());
    }
    auto err = postern::imap::verify_peer_certificate(s->stream, host_,
                                                      ca_file_);
    ASSERT_FALSE(err) << postern::render(err);
    if (!implicit_tls) {
      r = mailesmtp_ehlo(s.get()); // the capabilities change after STARTTLS
      ASSERT_EQ(r, MAILSMTP_NO_ERROR) << "EHLO: " << response_of(s.get());
    }
  }

  // AUTH PLAIN through libetpan's Cyrus SASL client.
  static int smtp_auth_plain(mailsmtp* s, const std::string& user,
                             const std::string& pass) {
    return mailesmtp_auth_sasl(s, "PLAIN", "localhost", nullptr, nullptr,
                               user.c_str(), user.c_str(), pass.c_str(),
                               nullptr);
  }

  void smtp_submit(bool implicit_tls, const std::string& message_id) const {
    smtp_ptr s;
    ASSERT_NO_FATAL_FAILURE(smtp_open(s, implicit_tls));
    auto alice = env_.get("MAIL_USER1");
    auto bob = env_.get("MAIL_USER2");
    int r = smtp_auth_plain(s.get(), alice, env_.get("MAIL_PASS1"));
    ASSERT_EQ(r, MAILSMTP_NO_ERROR)
      << "AUTH PLAIN: " << mailsmtp_strerror(r) << " " << response_of(s.get())
      << " (libetpan needs Cyrus SASL's PLAIN plugin: libsasl2-modules)";
    r = mailsmtp_mail(s.get(), alice.c_str());
    ASSERT_EQ(r, MAILSMTP_NO_ERROR) << "MAIL FROM: " << response_of(s.get());
    r = mailsmtp_rcpt(s.get(), bob.c_str());
    ASSERT_EQ(r, MAILSMTP_NO_ERROR) << "RCPT TO: " << response_of(s.get());
    r = mailsmtp_data(s.get());
    ASSERT_EQ(r, MAILSMTP_NO_ERROR) << "DATA: " << response_of(s.get());
    std::string message = "From: Alice Example <" + alice
                          + ">\r\n"
                            "To: <"
                          + bob
                          + ">\r\n"
                            "Subject: =?utf-8?Q?harness_=E2=9C=93?= "
                          + (implicit_tls ? "smtps" : "submission")
                          + "\r\n"
                            "Message-ID: "
                          + message_id
                          + "\r\n"
                            "Date: Tue, 02 Jan 2024 10:00:00 +0000\r\n"
                            "MIME-Version: 1.0\r\n"
                            "Content-Type: text/plain; charset=utf-8\r\n"
                            "Content-Transfer-Encoding: 8bit\r\n\r\n"
                            "Gr\xC3\xBC\xC3\x9F"
                            "e from the mail harness.\r\n"
                            ".a line that starts with a dot\r\n";
    r = mailsmtp_data_message(s.get(), message.data(), message.size());
    ASSERT_EQ(r, MAILSMTP_NO_ERROR) << "message: " << response_of(s.get());
    EXPECT_EQ(mailsmtp_quit(s.get()), MAILSMTP_NO_ERROR);
  }

  // Polls bob's INBOX (bounded) until a message with this Message-ID is
  // there; checks it came from alice.
  void expect_delivered_to_bob(const std::string& message_id) const {
    imap_ptr s;
    ASSERT_NO_FATAL_FAILURE(
      imap_login(s, env_.get("MAIL_USER2"), env_.get("MAIL_PASS2")));
    auto start = std::chrono::steady_clock::now();
    std::vector<uint32_t> uids;
    while (uids.empty()
           && std::chrono::steady_clock::now() - start < delivery_deadline) {
      ASSERT_EQ(mailimap_select(s.get(), "INBOX"), MAILIMAP_NO_ERROR);
      uids = uid_search(s.get(), mailimap_search_key_new_header(
                                   dup("Message-ID"), dup(message_id)));
      if (uids.empty())
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ASSERT_EQ(uids.size(), 1u)
      << message_id << " not in bob's INBOX after "
      << std::chrono::duration_cast<std::chrono::milliseconds>(
           std::chrono::steady_clock::now() - start)
           .count()
      << " ms";
    int rc = 0;
    auto rows = fetch_envelopes(s.get(), uids, &rc);
    ASSERT_EQ(rc, MAILIMAP_NO_ERROR);
    ASSERT_EQ(rows.size(), 1u);
    EXPECT_EQ(rows[0].message_id.value_or(""), message_id);
    EXPECT_EQ(rows[0].from_mailbox, "alice");
    ASSERT_TRUE(rows[0].subject);
    EXPECT_EQ(decode_header_value(rows[0].subject->c_str())
                .rfind("harness \xE2\x9C\x93", 0),
              0u)
      << *rows[0].subject;
    EXPECT_EQ(mailimap_logout(s.get()), MAILIMAP_NO_ERROR);
  }

  mail_env env_;
  std::string host_;
  std::string ca_file_;
};

// (a) STARTTLS, verified against the test CA; alice's seeded INBOX.
TEST_F(mail_harness, imap_starttls_verified_login_and_envelopes) {
  imap_ptr s;
  ASSERT_NO_FATAL_FAILURE(imap_starttls(s));
  auto err = postern::imap::verify_peer_certificate(s->imap_stream, host_,
                                                    ca_file_);
  ASSERT_FALSE(err) << postern::render(err);
  // the certificate names DNS:localhost as well as IP:127.0.0.1
  err = postern::imap::verify_peer_certificate(s->imap_stream, "localhost",
                                               ca_file_);
  EXPECT_FALSE(err) << postern::render(err);
  auto user = env_.get("MAIL_USER1");
  ASSERT_EQ(mailimap_login(s.get(), user.c_str(),
                           env_.get("MAIL_PASS1").c_str()),
            MAILIMAP_NO_ERROR)
    << response_of(s.get());
  ASSERT_EQ(mailimap_select(s.get(), "INBOX"), MAILIMAP_NO_ERROR)
    << response_of(s.get());
  ASSERT_NE(s->imap_selection_info, nullptr);
  auto exists = s->imap_selection_info->sel_exists;
  EXPECT_GT(exists, 100u);
  auto uids = uid_search(s.get(), mailimap_search_key_new_all());
  ASSERT_EQ(uids.size(), exists);
  std::vector<uint32_t> last(uids.end() - 10, uids.end());
  int rc = 0;
  auto rows = fetch_envelopes(s.get(), last, &rc);
  ASSERT_EQ(rc, MAILIMAP_NO_ERROR) << response_of(s.get());
  ASSERT_EQ(rows.size(), 10u);
  auto expected = manifest_subjects(user, "INBOX");
  EXPECT_FALSE(expected.empty()) << "no INBOX in " << env_.get("CORPUS_FILE");
  int compared = 0;
  for (const auto& row : rows) {
    SCOPED_TRACE("UID " + std::to_string(row.uid));
    EXPECT_NE(std::find(last.begin(), last.end(), row.uid), last.end());
    ASSERT_TRUE(row.message_id);
    // A Subject header with text must give a non-empty ENVELOPE subject.
    auto colon = row.subject_header.find(':');
    bool has_text = colon != std::string::npos
                    && row.subject_header.find_first_not_of(" \t\r\n",
                                                            colon + 1)
                         != std::string::npos;
    if (has_text) {
      ASSERT_TRUE(row.subject);
      EXPECT_FALSE(row.subject->empty());
    }
    // and it decodes to what seed.py wrote
    auto i = expected.find(*row.message_id);
    if (i == expected.end())
      continue;
    ++compared;
    if (!i->second) {
      EXPECT_FALSE(row.subject) << *row.subject;
    } else if (i->second->empty()) {
      EXPECT_TRUE(!row.subject || row.subject->empty());
    } else {
      ASSERT_TRUE(row.subject);
      EXPECT_EQ(decode_header_value(row.subject->c_str()), *i->second);
    }
  }
  EXPECT_EQ(compared, 10) << "alice's INBOX no longer ends with seeded "
                             "messages: tests must leave alice's corpus as "
                             "it is (tests/mail/README.md)";
  EXPECT_EQ(mailimap_logout(s.get()), MAILIMAP_NO_ERROR);
}

// (b) Verification is real: without the test CA, or for another name, the
// same connection fails.
TEST_F(mail_harness, imap_starttls_verification_rejects_untrusted) {
  imap_ptr s;
  ASSERT_NO_FATAL_FAILURE(imap_starttls(s));
  auto err = postern::imap::verify_peer_certificate(s->imap_stream, host_, "");
  ASSERT_TRUE(err) << "the test CA must not be in the system store";
  EXPECT_EQ(err.category(), caf::atom("postern"));
  EXPECT_EQ(err.code(), static_cast<uint8_t>(postern::ec::tls_failure));
  auto text = postern::describe(err);
  EXPECT_EQ(text.rfind("certificate verify failed: ", 0), 0u) << text;
  err = postern::imap::verify_peer_certificate(s->imap_stream,
                                               "mail.other.test", ca_file_);
  ASSERT_TRUE(err);
  EXPECT_NE(postern::describe(err).find("hostname mismatch"), std::string::npos)
    << postern::describe(err);
  err = postern::imap::verify_peer_certificate(s->imap_stream, "127.0.0.2",
                                               ca_file_);
  ASSERT_TRUE(err);
  EXPECT_NE(postern::describe(err).find("IP address mismatch"),
            std::string::npos)
    << postern::describe(err);
  err = postern::imap::verify_peer_certificate(s->imap_stream, host_,
                                               ca_file_ + ".missing");
  ASSERT_TRUE(err);
  EXPECT_NE(postern::describe(err).find("cannot read CA file"),
            std::string::npos)
    << postern::describe(err);
  // the connection still works: verification only reads the chain
  EXPECT_EQ(mailimap_logout(s.get()), MAILIMAP_NO_ERROR);
}

TEST_F(mail_harness, verification_needs_tls) {
  auto s = new_imap();
  ASSERT_TRUE(s);
  ASSERT_EQ(mailimap_socket_connect(s.get(), host_.c_str(),
                                    env_.port("IMAP_PORT")),
            MAILIMAP_NO_ERROR_NON_AUTHENTICATED);
  auto err = postern::imap::verify_peer_certificate(s->imap_stream, host_,
                                                    ca_file_);
  ASSERT_TRUE(err);
  EXPECT_NE(postern::describe(err).find("no certificate"), std::string::npos)
    << postern::describe(err);
  err = postern::imap::verify_peer_certificate(nullptr, host_, ca_file_);
  EXPECT_TRUE(err);
  err = postern::imap::verify_peer_certificate(s->imap_stream, "", ca_file_);
  EXPECT_TRUE(err);
  EXPECT_EQ(mailimap_logout(s.get()), MAILIMAP_NO_ERROR);
}

// (c) IMAPS (implicit TLS).
TEST_F(mail_harness, imaps_verified_login) {
  auto s = new_imap();
  ASSERT_TRUE(s);
  ASSERT_EQ(mailimap_ssl_connect(s.get(), host_.c_str(),
                                 env_.port("IMAPS_PORT")),
            MAILIMAP_NO_ERROR_NON_AUTHENTICATED);
  auto err = postern::imap::verify_peer_certificate(s->imap_stream, host_,
                                                    ca_file_);
  ASSERT_FALSE(err) << postern::render(err);
  err = postern::imap::verify_peer_certificate(s->imap_stream, host_, "");
  EXPECT_TRUE(err);
  ASSERT_EQ(mailimap_login(s.get(), env_.get("MAIL_USER3").c_str(),
                           env_.get("MAIL_PASS3").c_str()),
            MAILIMAP_NO_ERROR)
    << response_of(s.get());
  ASSERT_EQ(mailimap_select(s.get(), "INBOX"), MAILIMAP_NO_ERROR);
  EXPECT_EQ(s->imap_selection_info->sel_exists, 0u) << "carol's INBOX is empty";
  EXPECT_EQ(mailimap_logout(s.get()), MAILIMAP_NO_ERROR);
}

// (e) Submission with STARTTLS + AUTH PLAIN, delivered to bob via LMTP.
TEST_F(mail_harness, submission_starttls_delivers_to_bob) {
  auto id = unique_message_id("submission");
  ASSERT_NO_FATAL_FAILURE(smtp_submit(false, id));
  ASSERT_NO_FATAL_FAILURE(expect_delivered_to_bob(id));
}

TEST_F(mail_harness, submission_verification_rejects_untrusted) {
  smtp_ptr s = new_smtp();
  ASSERT_TRUE(s);
  ASSERT_EQ(mailsmtp_socket_connect(s.get(), host_.c_str(),
                                    env_.port("SUBMISSION_PORT")),
            MAILSMTP_NO_ERROR);
  ASSERT_EQ(mailsmtp_init(s.get()), MAILSMTP_NO_ERROR);
  ASSERT_EQ(mailsmtp_socket_starttls(s.get()), MAILSMTP_NO_ERROR);
  auto err = postern::imap::verify_peer_certificate(s->stream, host_, "");
  ASSERT_TRUE(err);
  EXPECT_EQ(postern::describe(err).rfind("certificate verify failed: ", 0), 0u)
    << postern::describe(err);
  err = postern::imap::verify_peer_certificate(s->stream, "mail.other.test",
                                               ca_file_);
  EXPECT_TRUE(err);
  EXPECT_EQ(mailsmtp_quit(s.get()), MAILSMTP_NO_ERROR);
}

// (f) The same over implicit TLS (submissions).
TEST_F(mail_harness, smtps_delivers_to_bob) {
  auto id = unique_message_id("smtps");
  ASSERT_NO_FATAL_FAILURE(smtp_submit(true, id));
  ASSERT_NO_FATAL_FAILURE(expect_delivered_to_bob(id));
}

// (d) Wrong passwords are refused, by IMAP and by SMTP AUTH. Last, and from
// 127.0.0.2: a server with Dovecot's default "auth penalty" delays the next
// login from the same IP after a failure (the fixture turns the penalty off).
TEST_F(mail_harness, wrong_password_rejected) {
  auto imap = new_imap();
  ASSERT_TRUE(imap);
  int fd = connect_from("127.0.0.2", host_, env_.port("IMAP_PORT"));
  ASSERT_GE(fd, 0) << "connect from 127.0.0.2: " << std::strerror(errno);
  auto* stream = mailstream_socket_open_timeout(fd, io_timeout_secs);
  if (stream == nullptr)
    close(fd);
  ASSERT_NE(stream, nullptr);
  ASSERT_EQ(mailimap_connect(imap.get(), stream), // takes the stream
            MAILIMAP_NO_ERROR_NON_AUTHENTICATED);
  ASSERT_EQ(mailimap_socket_starttls(imap.get()), MAILIMAP_NO_ERROR);
  auto err = postern::imap::verify_peer_certificate(imap->imap_stream, host_,
                                                    ca_file_);
  ASSERT_FALSE(err) << postern::render(err);
  int r = mailimap_login(imap.get(), env_.get("MAIL_USER1").c_str(),
                         "not-the-password");
  EXPECT_EQ(r, MAILIMAP_ERROR_LOGIN) << response_of(imap.get());
  EXPECT_EQ(mailimap_logout(imap.get()), MAILIMAP_NO_ERROR);

  auto smtp = new_smtp();
  ASSERT_TRUE(smtp);
  fd = connect_from("127.0.0.2", host_, env_.port("SUBMISSION_PORT"));
  ASSERT_GE(fd, 0) << "connect from 127.0.0.2: " << std::strerror(errno);
  stream = mailstream_socket_open_timeout(fd, io_timeout_secs);
  if (stream == nullptr)
    close(fd);
  ASSERT_NE(stream, nullptr);
  ASSERT_EQ(mailsmtp_connect(smtp.get(), stream), MAILSMTP_NO_ERROR);
  ASSERT_EQ(mailsmtp_init(smtp.get()), MAILSMTP_NO_ERROR);
  ASSERT_EQ(mailsmtp_socket_starttls(smtp.get()), MAILSMTP_NO_ERROR);
  err = postern::imap::verify_peer_certificate(smtp->stream, host_, ca_file_);
  ASSERT_FALSE(err) << postern::render(err);
  ASSERT_EQ(mailesmtp_ehlo(smtp.get()), MAILSMTP_NO_ERROR);
  r = smtp_auth_plain(smtp.get(), env_.get("MAIL_USER1"), "not-the-password");
  EXPECT_NE(r, MAILSMTP_NO_ERROR);
  EXPECT_EQ(mailsmtp_quit(smtp.get()), MAILSMTP_NO_ERROR);
}

} // namespace
