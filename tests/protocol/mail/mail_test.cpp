// SPDX-License-Identifier: Apache-2.0
// imap::session and smtp::client against the real Dovecot and Postfix of the
// CTest fixture mail_servers, with the seeded corpus (tests/mail/seed.py):
// every message of every folder must list and read, in valid UTF-8.

#include "postern/error.hpp"
#include "postern/imap/session.hpp"
#include "postern/mime/charset.hpp"
#include "postern/mime/message_builder.hpp"
#include "postern/smtp/client.hpp"
#include "support/mail_env.hpp"

#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <rapidjson/istreamwrapper.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <thread>

using namespace postern;
using namespace std::chrono_literals;

namespace {

using clock_type = std::chrono::steady_clock;

// One seeded message as corpus.json describes it.
struct seeded {
  uint32_t uid = 0;
  std::string kind;
  std::string message_id;
  bool has_subject = true;
  std::string subject;
  bool has_date = true;
  std::string flags; // Maildir letters: D F R S
};

using corpus
  = std::map<std::string, std::map<std::string, std::vector<seeded>>>;

corpus load_corpus(const std::string& path) {
  corpus result;
  std::ifstream in{path};
  rapidjson::IStreamWrapper wrapper{in};
  rapidjson::Document doc;
  doc.ParseStream(wrapper);
  if (doc.HasParseError() || !doc.IsObject())
    return result;
  for (auto& user : doc.GetObject())
    for (auto& folder : user.value.GetObject())
      for (auto& entry : folder.value.GetArray()) {
        seeded s;
        s.uid = entry["uid"].GetUint();
        s.kind = entry["kind"].GetString();
        s.message_id = entry["message_id"].GetString();
        s.has_subject = entry["subject"].IsString();
        if (s.has_subject)
          s.subject = entry["subject"].GetString();
        s.has_date = entry["has_date"].IsTrue();
        s.flags = entry["flags"].GetString();
        result[user.name.GetString()][folder.name.GetString()].push_back(s);
      }
  return result;
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// Every string a message carries must be valid UTF-8 (it goes to JSON).
void expect_valid_utf8(const imap::message_summary& m) {
  EXPECT_TRUE(mime::is_valid_utf8(m.subject)) << m.uid;
  for (auto* list : {&m.from, &m.to, &m.cc})
    for (auto& a : *list) {
      EXPECT_TRUE(mime::is_valid_utf8(a.name)) << m.uid;
      EXPECT_TRUE(mime::is_valid_utf8(a.address)) << m.uid;
    }
  for (auto& f : m.flags)
    EXPECT_TRUE(mime::is_valid_utf8(f));
  EXPECT_TRUE(mime::is_valid_utf8(m.message_id));
  EXPECT_TRUE(mime::is_valid_utf8(m.in_reply_to));
  EXPECT_TRUE(m.date.empty() || m.date.size() == 20) << m.date;
  EXPECT_EQ(m.received.size(), 20u) << m.uid;
}

void expect_valid_utf8(const imap::message& m) {
  expect_valid_utf8(m.summary);
  EXPECT_TRUE(mime::is_valid_utf8(m.body)) << m.summary.uid;
  for (auto& a : m.attachments) {
    EXPECT_TRUE(mime::is_valid_utf8(a.filename));
    EXPECT_TRUE(mime::is_valid_utf8(a.mime_type));
    EXPECT_FALSE(a.part_id.empty());
  }
  for (auto& r : m.references)
    EXPECT_TRUE(mime::is_valid_utf8(r));
}

bool has_flag(const std::vector<std::string>& flags, const std::string& flag) {
  return std::find(flags.begin(), flags.end(), flag) != flags.end();
}

bool has_file(const imap::message& m, const std::string& prefix,
              const std::string& suffix = {}) {
  for (auto& a : m.attachments)
    if (a.filename.rfind(prefix, 0) == 0 && a.filename.size() >= suffix.size()
        && a.filename.compare(a.filename.size() - suffix.size(), suffix.size(),
                              suffix)
             == 0)
      return true;
  return false;
}

// What the seeded text of each kind must read like.
void check_kind(const seeded& s, const imap::message& m) {
  const auto& body = m.body;
  auto at = "uid " + std::to_string(s.uid) + " (" + s.kind + ")";
  if (s.kind == "plain-ascii") {
    EXPECT_TRUE(contains(body, "plain 7-bit text, message")) << at;
  } else if (s.kind == "plain-utf8") {
    EXPECT_TRUE(contains(body, "naïve café, 日本語, Ελληνικά")) << at << body;
  } else if (s.kind == "plain-utf8-8bit") {
    EXPECT_TRUE(contains(body, "emoji 🎉 and 𝔘𝔫𝔦𝔠𝔬𝔡𝔢")) << at;
  } else if (s.kind == "plain-latin1") {
    EXPECT_TRUE(contains(body, "Grüße aus München! Der Café kostet 3,50 DM."))
      << at;
  } else if (s.kind == "plain-cp1252") {
    EXPECT_TRUE(
      contains(body, "“Smart quotes” – en dash — em dash … ellipsis, € 42"))
      << at;
  } else if (s.kind == "plain-sjis" || s.kind == "plain-iso2022jp") {
    EXPECT_TRUE(contains(body, "こんにちは、世界。会議は明日の午後三時です。"))
      << at;
  } else if (s.kind == "plain-gb2312") {
    EXPECT_TRUE(contains(body, "你好，世界。会议定于明天下午三点举行。")) << at;
  } else if (s.kind == "plain-koi8r") {
    EXPECT_TRUE(contains(body, "Привет! Отчёт готов, см. вложение.")) << at;
  } else if (s.kind == "no-content-type") {
    EXPECT_TRUE(contains(body, "No Content-Type header at all")) << at;
  } else if (s.kind == "html-only") {
    EXPECT_EQ(m.body_format, "text/html") << at;
    EXPECT_TRUE(contains(body, "Newsletter")) << at;
    EXPECT_TRUE(
      contains(body, "Café bold & link (https://example.test/x?a=1&b=2)"))
      << at << body;
    EXPECT_FALSE(contains(body, "alert(1)")) << at;
    EXPECT_FALSE(contains(body, "color:red")) << at;
    EXPECT_FALSE(contains(body, "<")) << at;
  } else if (s.kind == "alternative") {
    EXPECT_EQ(m.body_format, "text/plain") << at;
    EXPECT_TRUE(contains(body, "Plain part of")) << at;
    EXPECT_FALSE(contains(body, "HTML part")) << at;
  } else if (s.kind == "attachments") {
    EXPECT_TRUE(contains(body, "See attached")) << at;
    EXPECT_TRUE(m.summary.has_attachments) << at;
    EXPECT_TRUE(has_file(m, "report-", ".pdf")) << at;
    EXPECT_TRUE(has_file(m, "résumé ", ".csv")) << at;
    EXPECT_TRUE(has_file(m, "notes.txt")) << at;
    EXPECT_TRUE(has_file(m, "写真.png")) << at;
    for (auto& a : m.attachments) {
      if (a.filename.rfind("report-", 0) == 0) {
        EXPECT_EQ(a.mime_type, "application/pdf");
        EXPECT_GT(a.size, 3000u);
        EXPECT_EQ(a.disposition, "attachment");
      }
    }
  } else if (s.kind == "rfc2231") {
    EXPECT_TRUE(contains(body, "Three attachments with RFC 2231 names.")) << at;
    EXPECT_TRUE(has_file(m, "年次報告書 ", ".pdf")) << at;
    EXPECT_TRUE(has_file(m, "Grüße aus Köln.txt")) << at;
    EXPECT_TRUE(has_file(
      m, "a-very-long-file-name-that-was-split-into-two-continuations.bin"))
      << at;
  } else if (s.kind == "related") {
    EXPECT_TRUE(contains(body, "Logo:")) << at;
    ASSERT_EQ(m.attachments.size(), 1u) << at;
    EXPECT_EQ(m.attachments[0].mime_type, "image/png");
    EXPECT_FALSE(m.attachments[0].content_id.empty());
  } else if (s.kind == "forward") {
    EXPECT_TRUE(contains(body, "FYI, forwarded below.")) << at;
    EXPECT_TRUE(contains(body, "---------- Forwarded message ----------"))
      << at;
    EXPECT_TRUE(contains(body, "Subject: Original Nachricht für dich")) << at;
    EXPECT_TRUE(contains(body, "Grüße aus München!")) << at;
    EXPECT_TRUE(has_file(m, "Original Nachricht für dich.eml")) << at;
    EXPECT_TRUE(m.summary.has_attachments) << at;
  } else if (s.kind == "forward-nested") {
    EXPECT_TRUE(contains(body, "Two levels of forwarding.")) << at;
    EXPECT_TRUE(contains(body, "Second level.")) << at;
    EXPECT_TRUE(contains(body, "Subject: Пересылаемое сообщение")) << at;
    EXPECT_TRUE(contains(body, "Привет!")) << at;
    EXPECT_TRUE(has_file(m, "data.bin")) << at;
  } else if (s.kind == "huge") {
    EXPECT_TRUE(contains(body, "A big attachment follows.")) << at;
    ASSERT_TRUE(has_file(m, "big.bin")) << at;
    for (auto& a : m.attachments) {
      if (a.filename == "big.bin") {
        EXPECT_GT(a.size, 7'000'000u);
      }
    }
    EXPECT_GT(m.summary.size, 10'000'000u);
  } else if (s.kind == "thread") {
    EXPECT_FALSE(body.empty()) << at;
    if (s.subject != "Planning the Q3 offsite"
        && s.subject != "Änderungen am Vertrag"
        && s.subject
             != "Server migration status") { // not the first of its thread
      EXPECT_FALSE(m.references.empty()) << at;
    }
  } else if (s.kind == "missing-date") {
    EXPECT_TRUE(m.summary.date.empty()) << at;
  } else if (s.kind == "raw-8bit-headers") {
    ASSERT_FALSE(m.summary.from.empty());
    EXPECT_EQ(m.summary.from[0].name, "François Müller");
  }
}

} // namespace

class mail : public ::testing::Test {
protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(env_.load());
    if (corpus_.empty())
      corpus_ = load_corpus(env_.get("CORPUS_FILE"));
    ASSERT_FALSE(corpus_.empty()) << "cannot read " << env_.get("CORPUS_FILE");
  }

  server_settings
  imap_server(const std::string& user,
              transport_security security = transport_security::tls) {
    server_settings s;
    s.host = env_.get("MAIL_HOST");
    s.security = security;
    s.port = env_.port(security == transport_security::tls ? "IMAPS_PORT"
                                                           : "IMAP_PORT");
    s.username = user;
    return s;
  }

  imap::session_options options() {
    imap::session_options opts;
    opts.ca_file = env_.get("CA_FILE");
    opts.timeout = 20s;
    return opts;
  }

  std::unique_ptr<imap::session>
  login(const std::string& user, const std::string& pass,
        transport_security security = transport_security::tls) {
    auto s = std::make_unique<imap::session>(options());
    auto err = s->connect(imap_server(user, security), secret{pass});
    EXPECT_FALSE(err) << render(err);
    return err ? nullptr : std::move(s);
  }

  std::unique_ptr<imap::session> alice() {
    return login("alice@example.test", "alicepw");
  }

  postern::test::mail_env env_;
  static corpus corpus_;
};

corpus mail::corpus_;

// -- connecting
// ----------------------------------------------------------------

TEST_F(mail, connects_with_every_security_mode) {
  for (auto security : {transport_security::tls, transport_security::starttls,
                        transport_security::plain}) {
    auto s = login("alice@example.test", "alicepw", security);
    ASSERT_NE(s, nullptr) << to_string(security);
    EXPECT_TRUE(s->usable());
    auto& caps = s->capabilities();
    EXPECT_TRUE(caps.move);
    EXPECT_TRUE(caps.uidplus);
    EXPECT_TRUE(caps.special_use);
    EXPECT_TRUE(caps.condstore);
    EXPECT_TRUE(caps.idle);
    EXPECT_FALSE(s->noop());
    s->logout();
    EXPECT_FALSE(s->usable());
  }
  // The DNS name in the certificate works as well as the IP address.
  imap::session by_name{options()};
  auto settings = imap_server("alice@example.test");
  settings.host = "localhost";
  EXPECT_FALSE(by_name.connect(settings, secret{"alicepw"}));
  // A bare local part logs in too (Dovecot's auth_default_realm).
  EXPECT_NE(login("bob", "bobpw"), nullptr);
}

TEST_F(mail, verifies_certificates) {
  auto opts = options();
  opts.ca_file.clear(); // the system store does not know the test CA
  for (auto security :
       {transport_security::tls, transport_security::starttls}) {
    imap::session s{opts};
    auto err = s.connect(imap_server("alice@example.test", security),
                         secret{"alicepw"});
    ASSERT_TRUE(err);
    EXPECT_EQ(err, ec::tls_failure) << render(err);
    EXPECT_TRUE(contains(describe(err), "certificate")) << describe(err);
  }
  // "127.1" reaches the server but is not a name in its certificate.
  imap::session s{options()};
  auto settings = imap_server("alice@example.test");
  settings.host = "127.1";
  auto err = s.connect(settings, secret{"alicepw"});
  ASSERT_TRUE(err);
  EXPECT_EQ(err, ec::tls_failure) << render(err);
}

TEST_F(mail, reports_a_wrong_password) {
  imap::session s{options()};
  auto err = s.connect(imap_server("alice@example.test"),
                       secret{"wrong-password"});
  ASSERT_TRUE(err);
  EXPECT_EQ(err, ec::authentication_failed);
  EXPECT_EQ(
    describe(err).rfind("The IMAP server rejected the username or password", 0),
    0u)
    << describe(err);
  EXPECT_FALSE(contains(describe(err), "wrong-password"));
}

// -- folders
// --------------------------------------------------------------------

TEST_F(mail, lists_folders_with_decoded_names_roles_and_counts) {
  auto s = alice();
  ASSERT_NE(s, nullptr);
  auto folders = s->list_folders(true);
  ASSERT_TRUE(folders) << render(folders.error());
  std::map<std::string, imap::folder> by_name;
  for (auto& f : *folders) {
    EXPECT_TRUE(mime::is_valid_utf8(f.name));
    by_name[f.name] = f;
  }
  for (auto& [name, messages] : corpus_["alice@example.test"]) {
    ASSERT_EQ(by_name.count(name), 1u) << name;
    auto& f = by_name[name];
    EXPECT_TRUE(f.has_counts) << name;
    EXPECT_EQ(f.messages, messages.size()) << name;
    EXPECT_EQ(f.delimiter, "/");
    size_t unseen = 0;
    for (auto& m : messages)
      unseen += m.flags.find('S') == std::string::npos ? 1u : 0u;
    EXPECT_EQ(f.unseen, unseen) << name;
  }
  EXPECT_EQ(by_name["INBOX"].special_use, "\\Inbox");
  EXPECT_EQ(by_name["Sent"].special_use, "\\Sent");
  EXPECT_EQ(by_name["Trash"].special_use, "\\Trash");
  EXPECT_EQ(by_name["Archive"].special_use, "\\Archive");
  EXPECT_EQ(by_name["Entwürfe"].special_use, "");
  auto sent = s->find_special_use("\\Sent");
  ASSERT_TRUE(sent);
  EXPECT_EQ(*sent, "Sent");
  auto none = s->find_special_use("\\All");
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error(), ec::no_such_folder);
}

// -- every message lists and reads
// ---------------------------------------------------

TEST_F(mail, every_message_of_every_folder_lists_and_reads) {
  auto s = alice();
  ASSERT_NE(s, nullptr);
  size_t read = 0;
  for (auto& [folder, expected] : corpus_["alice@example.test"]) {
    // List everything, newest first, following cursors.
    std::vector<imap::message_summary> listed;
    imap::page_request request;
    request.page_size = 50;
    for (int guard = 0; guard < 100; ++guard) {
      auto page = s->list_messages(folder, request);
      ASSERT_TRUE(page) << folder << ": " << render(page.error());
      EXPECT_EQ(page->total, expected.size());
      listed.insert(listed.end(), page->messages.begin(), page->messages.end());
      if (page->next_cursor.empty())
        break;
      request.cursor = page->next_cursor;
    }
    ASSERT_EQ(listed.size(), expected.size()) << folder;
    for (size_t i = 1; i < listed.size(); ++i)
      EXPECT_GT(listed[i - 1].uid, listed[i].uid) << folder;
    std::map<uint32_t, const seeded*> by_uid;
    for (auto& e : expected)
      by_uid[e.uid] = &e;
    for (auto& m : listed) {
      expect_valid_utf8(m);
      ASSERT_EQ(by_uid.count(m.uid), 1u) << folder << " uid " << m.uid;
      auto& e = *by_uid[m.uid];
      EXPECT_EQ(m.subject, e.subject)
        << folder << " uid " << m.uid << " " << e.kind;
      EXPECT_EQ(m.message_id, e.message_id) << folder << " uid " << m.uid;
      EXPECT_EQ(m.date.empty(), !e.has_date) << folder << " uid " << m.uid;
      EXPECT_EQ(has_flag(m.flags, "\\Seen"),
                e.flags.find('S') != std::string::npos);
      EXPECT_EQ(has_flag(m.flags, "\\Flagged"),
                e.flags.find('F') != std::string::npos);
      EXPECT_EQ(has_flag(m.flags, "\\Answered"),
                e.flags.find('R') != std::string::npos);
      EXPECT_GT(m.size, 0u);
      EXPECT_FALSE(m.from.empty()) << folder << " uid " << m.uid;
    }
    // Read them all, ten at a time, as the read tool does.
    std::vector<uint32_t> uids;
    for (auto& e : expected)
      uids.push_back(e.uid);
    for (size_t i = 0; i < uids.size(); i += 10) {
      std::vector<uint32_t> batch(
        uids.begin() + static_cast<long>(i),
        uids.begin() + static_cast<long>(std::min(i + 10, uids.size())));
      auto outcomes = s->read_messages(folder, batch);
      ASSERT_TRUE(outcomes) << folder << ": " << render(outcomes.error());
      ASSERT_EQ(outcomes->size(), batch.size());
      for (auto& out : *outcomes) {
        ASSERT_FALSE(out.error)
          << folder << " uid " << out.uid << ": " << render(out.error);
        expect_valid_utf8(out.msg);
        auto& e = *by_uid[out.uid];
        EXPECT_EQ(out.msg.summary.subject, e.subject);
        EXPECT_EQ(out.msg.body_length, mime::count_code_points(out.msg.body));
        EXPECT_FALSE(out.msg.body.empty())
          << folder << " uid " << out.uid << " " << e.kind;
        check_kind(e, out.msg);
        ++read;
      }
    }
    // Reading never marks anything as seen (BODY.PEEK).
    auto again = s->list_messages(folder, request);
    ASSERT_TRUE(again);
  }
  EXPECT_GT(read, 300u);
  auto folders = s->list_folders(true);
  ASSERT_TRUE(folders);
  for (auto& f : *folders)
    if (f.name == "INBOX") {
      size_t unseen = 0;
      for (auto& m : corpus_["alice@example.test"]["INBOX"])
        unseen += m.flags.find('S') == std::string::npos ? 1u : 0u;
      EXPECT_EQ(f.unseen, unseen) << "reading changed \\Seen";
    }
}

TEST_F(mail, reads_with_windows_and_reports_missing_uids) {
  auto s = alice();
  ASSERT_NE(s, nullptr);
  uint32_t uid = 0;
  for (auto& e : corpus_["alice@example.test"]["INBOX"])
    if (e.kind == "plain-utf8")
      uid = e.uid;
  ASSERT_NE(uid, 0u);
  auto whole = s->read_message("INBOX", uid);
  ASSERT_TRUE(whole) << render(whole.error());
  EXPECT_FALSE(whole->truncated);
  imap::read_options window;
  window.offset = 7;
  window.max_length = 10;
  auto part = s->read_message("INBOX", uid, window);
  ASSERT_TRUE(part);
  EXPECT_EQ(part->body_length, whole->body_length);
  EXPECT_EQ(part->offset, 7u);
  EXPECT_TRUE(part->truncated);
  EXPECT_EQ(part->body, mime::slice_code_points(whole->body, 7, 10));
  window.offset = 1'000'000;
  auto beyond = s->read_message("INBOX", uid, window);
  ASSERT_TRUE(beyond);
  EXPECT_EQ(beyond->body, "");
  EXPECT_FALSE(beyond->truncated);

  auto missing = s->read_message("INBOX", 999999);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error(), ec::no_such_message);
  EXPECT_TRUE(contains(describe(missing.error()), "999999"));
  auto mixed = s->read_messages("INBOX", {uid, 999999, 0});
  ASSERT_TRUE(mixed);
  ASSERT_EQ(mixed->size(), 3u);
  EXPECT_FALSE((*mixed)[0].error);
  EXPECT_EQ((*mixed)[1].error, ec::no_such_message);
  EXPECT_EQ((*mixed)[2].error, ec::no_such_message);
  auto no_folder = s->read_message("No such folder", 1);
  ASSERT_FALSE(no_folder);
  EXPECT_EQ(no_folder.error(), ec::no_such_folder);
  EXPECT_TRUE(s->usable());
}

TEST_F(mail, pages_are_clamped_and_end_empty) {
  auto s = alice();
  ASSERT_NE(s, nullptr);
  auto total = corpus_["alice@example.test"]["INBOX"].size();
  imap::page_request request;
  request.page_size = 500;
  auto page = s->list_messages("INBOX", request);
  ASSERT_TRUE(page);
  EXPECT_EQ(page->page_size, 50u);
  EXPECT_EQ(page->messages.size(), 50u);
  EXPECT_EQ(page->messages.front().uid, total);
  request.page_size = -3;
  request.page = -1;
  page = s->list_messages("INBOX", request);
  ASSERT_TRUE(page);
  EXPECT_EQ(page->page, 1u);
  EXPECT_EQ(page->messages.size(), 1u);
  request.page_size = 20;
  request.page = static_cast<int64_t>(total / 20 + 2);
  page = s->list_messages("INBOX", request);
  ASSERT_TRUE(page);
  EXPECT_TRUE(page->messages.empty()) << "a page past the end must be empty";
  EXPECT_TRUE(page->next_cursor.empty());
  request.page = 2;
  auto second = s->list_messages("INBOX", request);
  ASSERT_TRUE(second);
  EXPECT_EQ(second->messages.front().uid, total - 20);
  request.page = 1;
  request.cursor = "garbage";
  auto bad = s->list_messages("INBOX", request);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error(), ec::invalid_argument);
  auto empty = login("carol@example.test", "carolpw");
  ASSERT_NE(empty, nullptr);
  request.cursor.clear();
  // carol's Junk stays empty: other tests send mail to carol's INBOX.
  auto none = empty->list_messages("Junk", request);
  ASSERT_TRUE(none);
  EXPECT_EQ(none->total, 0u);
  EXPECT_TRUE(none->messages.empty());
}

// -- searching
// -----------------------------------------------------------------

TEST_F(mail, searches) {
  auto s = alice();
  ASSERT_NE(s, nullptr);
  auto& inbox = corpus_["alice@example.test"]["INBOX"];
  size_t unseen = 0;
  size_t flagged = 0;
  size_t answered = 0;
  for (auto& m : inbox) {
    unseen += m.flags.find('S') == std::string::npos ? 1u : 0u;
    flagged += m.flags.find('F') != std::string::npos ? 1u : 0u;
    answered += m.flags.find('R') != std::string::npos ? 1u : 0u;
  }
  imap::search_query q;
  q.subject = "Huge message";
  auto r = s->search("INBOX", q);
  ASSERT_TRUE(r) << render(r.error());
  EXPECT_EQ(r->total, 1u);
  ASSERT_EQ(r->messages.size(), 1u);
  EXPECT_TRUE(r->messages[0].has_attachments);

  q = {};
  q.unseen = true;
  q.limit = 500;
  r = s->search("INBOX", q);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->total, unseen);
  EXPECT_EQ(r->messages.size(), std::min<size_t>(unseen, 50));
  for (size_t i = 1; i < r->messages.size(); ++i)
    EXPECT_GT(r->messages[i - 1].uid, r->messages[i].uid);
  for (auto& m : r->messages)
    EXPECT_FALSE(has_flag(m.flags, "\\Seen"));

  q = {};
  q.flagged = true;
  r = s->search("INBOX", q);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->total, flagged);
  q = {};
  q.answered = true;
  q.limit = 0; // clamped to 1
  r = s->search("INBOX", q);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->total, answered);
  EXPECT_EQ(r->messages.size(), answered > 0 ? 1u : 0u);

  // Non-ASCII criteria go with CHARSET UTF-8; Dovecot decodes RFC 2047.
  q = {};
  q.subject = "Änderungen am Vertrag";
  r = s->search("INBOX", q);
  ASSERT_TRUE(r) << render(r.error());
  EXPECT_GT(r->total, 5u);
  q = {};
  q.body = "Привет";
  r = s->search("INBOX", q);
  ASSERT_TRUE(r) << render(r.error());
  EXPECT_GT(r->total, 0u);
  q = {};
  q.from = "bob@example.test";
  q.query = "Huge";
  r = s->search("INBOX", q);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->total, 1u);
  q = {};
  q.text = "no-such-text-anywhere-7c1f";
  r = s->search("INBOX", q);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->total, 0u);
  EXPECT_TRUE(r->messages.empty());

  // Dates: strict format, and a real range.
  q = {};
  q.since = "2024-02-30";
  r = s->search("INBOX", q);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), ec::invalid_argument);
  q.since = "not-a-date";
  EXPECT_FALSE(s->search("INBOX", q));
  q.since = "2000-01-01";
  q.before = "2100-01-01";
  r = s->search("INBOX", q);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->total, inbox.size());
  q.since = "2100-01-01";
  q.before = {};
  r = s->search("INBOX", q);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->total, 0u);
  q = {};
  EXPECT_EQ(s->search("Nope", q).error(), ec::no_such_folder);
  EXPECT_TRUE(s->usable());
}

// -- changing: bob's and carol's mailboxes (alice's stay as seeded)
// ---------------------

TEST_F(mail, cursor_stays_stable_while_mail_arrives) {
  auto s = login("bob@example.test", "bobpw");
  ASSERT_NE(s, nullptr);
  imap::page_request request;
  request.page_size = 2;
  auto first = s->list_messages("INBOX", request);
  ASSERT_TRUE(first);
  ASSERT_EQ(first->messages.size(), 2u);
  ASSERT_FALSE(first->next_cursor.empty());
  request.page = 2;
  auto expected_second = s->list_messages("INBOX", request);
  ASSERT_TRUE(expected_second);
  // New mail arrives (from another connection).
  auto other = login("bob@example.test", "bobpw");
  ASSERT_NE(other, nullptr);
  mime::outgoing_message msg;
  msg.from = {"", "alice@example.test"};
  msg.to = {{"", "bob@example.test"}};
  msg.subject = "arrives while paging";
  msg.text = "new";
  auto built = mime::build_message(msg);
  ASSERT_TRUE(built);
  auto appended = other->append("INBOX", built->data, {});
  ASSERT_TRUE(appended) << render(appended.error());
  EXPECT_GT(appended->uid, first->messages.front().uid);
  // Page 2 by number shifts; the cursor does not.
  request.cursor = first->next_cursor;
  auto second = s->list_messages("INBOX", request);
  ASSERT_TRUE(second) << render(second.error());
  ASSERT_EQ(second->messages.size(), expected_second->messages.size());
  for (size_t i = 0; i < second->messages.size(); ++i)
    EXPECT_EQ(second->messages[i].uid, expected_second->messages[i].uid);
  EXPECT_EQ(second->total, expected_second->total + 1);
  // Follow the cursors to the end: every old message exactly once.
  std::set<uint32_t> seen;
  for (auto& m : first->messages)
    seen.insert(m.uid);
  while (true) {
    for (auto& m : second->messages)
      EXPECT_TRUE(seen.insert(m.uid).second);
    if (second->next_cursor.empty())
      break;
    request.cursor = second->next_cursor;
    second = s->list_messages("INBOX", request);
    ASSERT_TRUE(second);
  }
  EXPECT_EQ(seen.size(), expected_second->total);
  // A cursor of another folder is refused.
  request.cursor = first->next_cursor;
  auto wrong = s->list_messages("Sent", request);
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error(), ec::invalid_argument);
}

TEST_F(mail, moves_and_flags_report_real_results) {
  auto s = login("bob@example.test", "bobpw");
  ASSERT_NE(s, nullptr);
  auto page = s->list_messages("INBOX", {});
  ASSERT_TRUE(page);
  ASSERT_GE(page->messages.size(), 2u);
  auto uid = page->messages.back().uid;

  // Flags: add, remove, and the server's resulting state.
  imap::flag_change change;
  change.flagged = imap::flag_action::add;
  change.seen = imap::flag_action::add;
  auto flagged = s->set_flags("INBOX", uid, change);
  ASSERT_TRUE(flagged) << render(flagged.error());
  EXPECT_TRUE(has_flag(flagged->flags, "\\Flagged"));
  EXPECT_TRUE(has_flag(flagged->flags, "\\Seen"));
  EXPECT_EQ(flagged->added, (std::vector<std::string>{"\\Seen", "\\Flagged"}));
  change = {};
  change.flagged = imap::flag_action::remove;
  change.answered = imap::flag_action::add;
  auto unflagged = s->set_flags("INBOX", uid, change);
  ASSERT_TRUE(unflagged);
  EXPECT_FALSE(has_flag(unflagged->flags, "\\Flagged"));
  EXPECT_TRUE(has_flag(unflagged->flags, "\\Answered"));
  auto missing = s->set_flags("INBOX", 999999, change);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error(), ec::no_such_message);
  EXPECT_EQ(s->set_flags("INBOX", 0, change).error(), ec::no_such_message);
  EXPECT_EQ(s->set_flags("Nope", uid, change).error(), ec::no_such_folder);

  // Move: real new UID, gone from the source, there in the destination.
  auto moved = s->move("INBOX", uid, "Archive");
  ASSERT_TRUE(moved) << render(moved.error());
  EXPECT_NE(moved->new_uid, 0u);
  EXPECT_EQ(s->read_message("INBOX", uid).error(), ec::no_such_message);
  auto there = s->read_message("Archive", moved->new_uid);
  ASSERT_TRUE(there) << render(there.error());
  EXPECT_TRUE(has_flag(there->summary.flags, "\\Answered"));
  // And back, into a folder with a non-ASCII name created for the test.
  EXPECT_EQ(s->move("INBOX", 999999, "Archive").error(), ec::no_such_message);
  auto to_missing = s->move("Archive", moved->new_uid, "No such folder");
  ASSERT_FALSE(to_missing);
  EXPECT_EQ(to_missing.error(), ec::no_such_folder)
    << render(to_missing.error());
  EXPECT_EQ(s->move("Nope", 1, "Archive").error(), ec::no_such_folder);
  EXPECT_EQ(s->move("INBOX", 0, "Archive").error(), ec::no_such_message);
  auto back = s->move("Archive", moved->new_uid, "INBOX");
  ASSERT_TRUE(back) << render(back.error());
  EXPECT_TRUE(s->usable());
}

TEST_F(mail, appends_to_folders) {
  auto s = login("carol@example.test", "carolpw");
  ASSERT_NE(s, nullptr);
  mime::outgoing_message msg;
  msg.from = {"Carol", "carol@example.test"};
  msg.to = {{"", "bob@example.test"}};
  msg.subject = "Entwurf – draft";
  msg.text = "draft text";
  auto built = mime::build_message(msg);
  ASSERT_TRUE(built);
  auto sent = s->find_special_use("\\Drafts");
  ASSERT_TRUE(sent);
  auto appended = s->append(*sent, built->data,
                            {"\\Draft", "\\Seen", "$Custom"});
  ASSERT_TRUE(appended) << render(appended.error());
  ASSERT_NE(appended->uid, 0u);
  auto back = s->read_message(*sent, appended->uid);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->summary.subject, "Entwurf – draft");
  EXPECT_EQ(back->body, "draft text");
  EXPECT_TRUE(has_flag(back->summary.flags, "\\Draft"));
  EXPECT_TRUE(has_flag(back->summary.flags, "$Custom"));
  auto missing = s->append("No such folder", built->data, {});
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error(), ec::no_such_folder) << render(missing.error());
}

// -- sending
// ------------------------------------------------------------------------------

TEST_F(mail, sends_and_the_recipient_receives) {
  for (auto security :
       {transport_security::starttls, transport_security::tls}) {
    auto token = "token-"
                 + std::to_string(clock_type::now().time_since_epoch().count());
    mime::outgoing_message msg;
    msg.from = {"Carol Écrivain", "carol@example.test"};
    msg.to = {{"Bob Builder", "bob@example.test"}};
    msg.subject = "Grüße " + token + " – ☕";
    msg.text = "Hallo Bob,\nein Test mit Umlauten: äöü ß.\n" + token;
    msg.html = "<p>Hallo <b>Bob</b>, " + token + "</p>";
    msg.in_reply_to = "<parent@example.test>";
    auto built = mime::build_message(msg);
    ASSERT_TRUE(built);
    server_settings smtp_server;
    smtp_server.host = env_.get("MAIL_HOST");
    smtp_server.security = security;
    smtp_server.port = env_.port(
      security == transport_security::tls ? "SMTPS_PORT" : "SUBMISSION_PORT");
    smtp_server.username = "carol@example.test";
    smtp::client_options opts;
    opts.ca_file = env_.get("CA_FILE");
    opts.timeout = 20s;
    auto err = smtp::send_message(smtp_server, secret{"carolpw"}, *built, opts);
    ASSERT_FALSE(err) << render(err);
    // A copy in the sender's Sent folder, seen.
    auto carol = login("carol@example.test", "carolpw");
    ASSERT_NE(carol, nullptr);
    auto sent = carol->find_special_use("\\Sent");
    ASSERT_TRUE(sent);
    auto copy = carol->append(*sent, built->data, {"\\Seen"});
    ASSERT_TRUE(copy) << render(copy.error());
    // The recipient gets it within a few seconds.
    auto bob = login("bob@example.test", "bobpw");
    ASSERT_NE(bob, nullptr);
    imap::search_query q;
    q.text = token;
    imap::search_result found;
    auto deadline = clock_type::now() + 10s;
    while (clock_type::now() < deadline) {
      auto r = bob->search("INBOX", q);
      ASSERT_TRUE(r) << render(r.error());
      if (r->total > 0) {
        found = *r;
        break;
      }
      std::this_thread::sleep_for(100ms);
    }
    ASSERT_EQ(found.total, 1u) << "not delivered: " << token;
    auto got = bob->read_message("INBOX", found.messages[0].uid);
    ASSERT_TRUE(got) << render(got.error());
    EXPECT_EQ(got->summary.subject, msg.subject);
    EXPECT_EQ(got->summary.message_id, built->message_id);
    EXPECT_EQ(got->summary.in_reply_to, "<parent@example.test>");
    EXPECT_EQ(got->references,
              (std::vector<std::string>{"<parent@example.test>"}));
    ASSERT_EQ(got->summary.from.size(), 1u);
    EXPECT_EQ(got->summary.from[0].name, "Carol Écrivain");
    EXPECT_EQ(got->body_format, "text/plain");
    EXPECT_TRUE(contains(got->body, "äöü ß")) << got->body;
    EXPECT_TRUE(contains(got->body, token));
    auto in_sent = carol->read_message(*sent, copy->uid);
    ASSERT_TRUE(in_sent);
    EXPECT_EQ(in_sent->summary.message_id, built->message_id);
    EXPECT_TRUE(has_flag(in_sent->summary.flags, "\\Seen"));
  }
}

TEST_F(mail, smtp_reports_a_wrong_password_and_bad_certificates) {
  server_settings smtp_server;
  smtp_server.host = env_.get("MAIL_HOST");
  smtp_server.security = transport_security::starttls;
  smtp_server.port = env_.port("SUBMISSION_PORT");
  smtp_server.username = "carol@example.test";
  smtp::client_options opts;
  opts.ca_file = env_.get("CA_FILE");
  opts.timeout = 20s;
  smtp::client c{opts};
  auto err = c.connect(smtp_server, secret{"not-carols-password"});
  ASSERT_TRUE(err);
  EXPECT_EQ(err, ec::authentication_failed) << render(err);
  EXPECT_FALSE(contains(describe(err), "not-carols-password"));
  opts.ca_file.clear();
  smtp::client untrusted{opts};
  err = untrusted.connect(smtp_server, secret{"carolpw"});
  EXPECT_EQ(err, ec::tls_failure) << render(err);
  smtp_server.security = transport_security::tls;
  smtp_server.port = env_.port("SMTPS_PORT");
  smtp::client untrusted_tls{opts};
  err = untrusted_tls.connect(smtp_server, secret{"carolpw"});
  EXPECT_EQ(err, ec::tls_failure) << render(err);
}

// -- latency (printed, not asserted)
// -------------------------------------------------------

TEST_F(mail, latency) {
  using ms = std::chrono::duration<double, std::milli>;
  auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  };
  auto measure = [&](const char* what, int n, auto f) {
    std::vector<double> times;
    for (int i = 0; i < n; ++i) {
      auto start = clock_type::now();
      f();
      times.push_back(ms(clock_type::now() - start).count());
    }
    auto max = *std::max_element(times.begin(), times.end());
    std::cout << "[latency] " << what << ": median " << median(times)
              << " ms, max " << max << " ms over " << n << " runs\n";
  };
  measure("connect+TLS+login (IMAPS)", 10, [&] { alice(); });
  auto s = alice();
  ASSERT_NE(s, nullptr);
  std::map<std::string, uint32_t> uid_of;
  for (auto& e : corpus_["alice@example.test"]["INBOX"])
    uid_of.emplace(e.kind, e.uid);
  imap::page_request page;
  measure("list_messages INBOX page of 20", 20,
          [&] { ASSERT_TRUE(s->list_messages("INBOX", page)); });
  page.page_size = 50;
  measure("list_messages INBOX page of 50", 20,
          [&] { ASSERT_TRUE(s->list_messages("INBOX", page)); });
  for (auto kind :
       {"plain-utf8", "html-only", "attachments", "forward-nested", "huge"})
    measure((std::string{"read_message "} + kind).c_str(), 20,
            [&] { ASSERT_TRUE(s->read_message("INBOX", uid_of[kind])); });
  std::vector<uint32_t> ten;
  for (auto& e : corpus_["alice@example.test"]["INBOX"])
    if (ten.size() < 10)
      ten.push_back(e.uid);
  measure("read_messages 10 uids", 20,
          [&] { ASSERT_TRUE(s->read_messages("INBOX", ten)); });
  imap::search_query q;
  q.subject = "Änderungen";
  measure("search subject (UTF-8)", 20,
          [&] { ASSERT_TRUE(s->search("INBOX", q)); });
  measure("list_folders with counts", 10,
          [&] { ASSERT_TRUE(s->list_folders(true)); });
}

// -- byte budgets
// ---------------------------------------------------------------

TEST_F(mail, a_10_mb_attachment_reads_whole_in_chunks) {
  auto opts = options();
  // Below the part's size: fetching it in one literal would be refused, so
  // this passes only if the part is read in partial FETCHes.
  opts.budget.max_literal = 2 * 1024 * 1024;
  opts.fetch_chunk_bytes = 1024 * 1024;
  imap::session s{opts};
  ASSERT_FALSE(s.connect(imap_server("carol@example.test"), secret{"carolpw"}));
  std::string file(10 * 1000 * 1000, '\0');
  uint32_t x = 12345;
  for (auto& c : file) {
    x = x * 1103515245u + 12345u;
    c = static_cast<char>(x >> 24);
  }
  mime::outgoing_message msg;
  msg.from = {"Carol", "carol@example.test"};
  msg.to = {{"", "bob@example.test"}};
  msg.subject = "Ten megabytes";
  msg.text = "The file is attached.";
  msg.attachments.push_back(
    mime::file_attachment("ten.bin", "application/octet-stream", file));
  auto built = mime::build_message(msg);
  ASSERT_TRUE(built);
  auto folder = s.find_special_use("\\Archive");
  ASSERT_TRUE(folder) << render(folder.error());
  auto appended = s.append(*folder, built->data, {"\\Seen"});
  ASSERT_TRUE(appended) << render(appended.error());
  ASSERT_NE(appended->uid, 0u);
  auto read = s.read_message(*folder, appended->uid);
  ASSERT_TRUE(read) << render(read.error());
  EXPECT_EQ(read->body, "The file is attached.");
  std::string part;
  for (auto& a : read->attachments)
    if (a.filename == "ten.bin")
      part = a.part_id;
  ASSERT_FALSE(part.empty());
  mime::attachment_limits limits;
  limits.file = 12 * 1000 * 1000;
  auto att = s.fetch_attachment(*folder, appended->uid, part, limits);
  ASSERT_TRUE(att) << render(att.error());
  EXPECT_EQ(att->size, file.size());
  EXPECT_TRUE(att->data == file) << "the bytes differ";
  auto original = s.fetch_original(*folder, appended->uid, true,
                                   12 * 1000 * 1000);
  ASSERT_TRUE(original) << render(original.error());
  ASSERT_EQ(original->attachments.size(), 1u);
  EXPECT_TRUE(original->attachments[0].data == file) << "the bytes differ";
  // Below the file's size, it is refused, not cut.
  limits.file = 5 * 1000 * 1000;
  auto small = s.fetch_attachment(*folder, appended->uid, part, limits);
  ASSERT_FALSE(small);
  EXPECT_EQ(small.error(), ec::too_large) << render(small.error());
  EXPECT_TRUE(s.usable());
}
