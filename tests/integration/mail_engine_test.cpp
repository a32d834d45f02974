// SPDX-License-Identifier: Apache-2.0
// The mail engine end to end: the NODE's MAIL ROUTER, ACCOUNTs, IMAP
// CONNECTIONs and SMTP SENDERs against the real Dovecot and Postfix of the
// mail fixture, plus scripted faults (wrong password, stalls, resets) from a
// fake server. alice's corpus is read-only; changes happen in bob's mailbox.

#include "postern/actors/imap_connection.hpp"
#include "postern/actors/mail_router.hpp"
#include "postern/error.hpp"
#include "postern/log.hpp"
#include "postern/mime/charset.hpp"
#include "postern/process/local_node.hpp"
#include "postern/process/logging.hpp"
#include "postern/smtp/client.hpp"
#include "postern/storage/crypto.hpp"
#include "postern/storage/key_files.hpp"
#include "support/fake_server.hpp"
#include "support/mail_env.hpp"
#include "support/temp_dir.hpp"

#include <caf/actor_system.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <future>
#include <thread>

using namespace postern;
using namespace std::chrono_literals;

namespace {

/// One running mail engine with a few accounts.
class mail_engine : public ::testing::Test {
protected:
  static void SetUpTestSuite() {
    init_logging("warn", "text");
  }

  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(mail.load());
    cfg.data_dir = dir;
    cfg.account_host_deny = "none";
    cfg.mail_timeout_seconds = 3;
    cfg.login_failure_cache_seconds = 60;
    node = std::make_unique<local_node>();
    auto err = node->start(cfg);
    ASSERT_FALSE(err) << describe(err);
    comps = node->actors();
    auto u = ask<user_info>(comps.directory, atom::add_user_v,
                            std::string{"engine"}, secret{"engine-password"});
    ASSERT_TRUE(u) << describe(u.error());
    user = *u;
  }

  void TearDown() override {
    node.reset(); // stops every actor
  }

  template <class T, class Handle, class... Ts>
  caf::expected<T> ask(const Handle& hdl, Ts&&... xs) {
    return node->ask<T>(hdl, std::forward<Ts>(xs)...);
  }

  /// Adds an account; `port` 0 means the fixture's STARTTLS IMAP port.
  mailbox_ref
  add_account(const std::string& login, const std::string& password,
              uint16_t port = 0,
              transport_security sec = transport_security::starttls) {
    account_settings s;
    s.owner = user.id;
    s.label = login;
    s.imap = server_settings{"127.0.0.1", port ? port : mail.port("IMAP_PORT"),
                             sec, login};
    s.ca_file = mail.get("CA_FILE");
    s.has_smtp = true;
    s.smtp = server_settings{"127.0.0.1", mail.port("SUBMISSION_PORT"),
                             transport_security::starttls, login};
    account_credentials creds;
    creds.imap_password = secret{password};
    auto stored = ask<account_settings>(comps.directory, atom::add_account_v, s,
                                        creds);
    EXPECT_TRUE(stored) << describe(stored.error());
    return mailbox_ref{user.id, stored ? stored->id : account_id{}};
  }

  mailbox_ref alice() {
    return add_account(mail.get("MAIL_USER1"), mail.get("MAIL_PASS1"));
  }

  mailbox_ref bob() {
    return add_account(mail.get("MAIL_USER2"), mail.get("MAIL_PASS2"));
  }

  /// Sends for the tests: sending saves a copy in the sender's Sent folder,
  /// and alice's corpus must stay as seeded.
  mailbox_ref carol() {
    return add_account(mail.get("MAIL_USER3"), mail.get("MAIL_PASS3"));
  }

  postern::test::mail_env mail;
  test::temp_dir tmp{"postern-engine"};
  std::string dir = tmp.path();
  config cfg;
  std::unique_ptr<local_node> node;
  components comps;
  user_info user;
};

} // namespace

TEST_F(mail_engine, lists_folders_with_decoded_names_and_roles) {
  auto ref = alice();
  auto folders = ask<std::vector<imap::folder>>(comps.mail, atom::folders_v,
                                                ref, true);
  ASSERT_TRUE(folders) << describe(folders.error());
  std::map<std::string, imap::folder> by_name;
  for (auto& f : *folders)
    by_name[f.name] = f;
  ASSERT_TRUE(by_name.count("INBOX"));
  EXPECT_GE(by_name["INBOX"].messages, 300u);
  EXPECT_TRUE(by_name.count("Entwürfe"));
  EXPECT_TRUE(by_name.count("日本語"));
  EXPECT_TRUE(by_name.count("Rechnungen & Belege"));
  EXPECT_EQ(by_name["Sent"].special_use, "\\Sent");
}

TEST_F(mail_engine, lists_reads_and_searches_the_corpus) {
  auto ref = alice();
  imap::page_request page;
  page.page_size = 10;
  auto first = ask<imap::message_page>(comps.mail, atom::messages_v, ref,
                                       std::string{"INBOX"}, page);
  ASSERT_TRUE(first) << describe(first.error());
  ASSERT_EQ(first->messages.size(), 10u);
  EXPECT_GE(first->total, 300u);
  for (size_t i = 1; i < first->messages.size(); ++i)
    EXPECT_GT(first->messages[i - 1].uid, first->messages[i].uid);
  // Past the end: an empty page, not message #1 again.
  page.page = 1000;
  auto past = ask<imap::message_page>(comps.mail, atom::messages_v, ref,
                                      std::string{"INBOX"}, page);
  ASSERT_TRUE(past);
  EXPECT_TRUE(past->messages.empty());
  // Every message of the first 40 reads as valid UTF-8.
  page.page = 1;
  page.page_size = 40;
  auto listed = ask<imap::message_page>(comps.mail, atom::messages_v, ref,
                                        std::string{"INBOX"}, page);
  ASSERT_TRUE(listed);
  std::vector<uint32_t> uids;
  for (auto& m : listed->messages)
    uids.push_back(m.uid);
  for (size_t i = 0; i < uids.size(); i += 10) {
    std::vector<uint32_t> batch(
      uids.begin() + static_cast<long>(i),
      uids.begin() + static_cast<long>(std::min(i + 10, uids.size())));
    auto read = ask<std::vector<imap::read_outcome>>(
      comps.mail, atom::read_v, ref, std::string{"INBOX"}, batch,
      imap::read_options{0, 20000});
    ASSERT_TRUE(read) << describe(read.error());
    ASSERT_EQ(read->size(), batch.size());
    for (auto& r : *read) {
      EXPECT_FALSE(r.error) << r.uid << ": " << describe(r.error);
      EXPECT_TRUE(mime::is_valid_utf8(r.msg.body)) << r.uid;
      EXPECT_TRUE(mime::is_valid_utf8(r.msg.summary.subject)) << r.uid;
    }
  }
  // A missing UID is reported for that UID only.
  auto mixed = ask<std::vector<imap::read_outcome>>(
    comps.mail, atom::read_v, ref, std::string{"INBOX"},
    std::vector<uint32_t>{uids.front(), 999999}, imap::read_options{});
  ASSERT_TRUE(mixed);
  ASSERT_EQ(mixed->size(), 2u);
  EXPECT_FALSE((*mixed)[0].error);
  EXPECT_EQ((*mixed)[1].error, ec::no_such_message);
  // Search.
  imap::search_query q;
  q.since = "2000-01-01";
  q.limit = 5;
  auto found = ask<imap::search_result>(comps.mail, atom::search_v, ref,
                                        std::string{"INBOX"}, q);
  ASSERT_TRUE(found) << describe(found.error());
  EXPECT_EQ(found->messages.size(), 5u);
  EXPECT_GE(found->total, 5u);
  q.since = "2023-13-45";
  auto bad = ask<imap::search_result>(comps.mail, atom::search_v, ref,
                                      std::string{"INBOX"}, q);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error(), ec::invalid_argument);
  // A missing folder is an error with a sentence.
  auto missing = ask<imap::message_page>(comps.mail, atom::messages_v, ref,
                                         std::string{"No Such Folder"},
                                         imap::page_request{});
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error(), ec::no_such_folder);
}

TEST_F(mail_engine, parallel_requests_share_the_pool) {
  auto ref = alice();
  std::vector<std::future<caf::expected<imap::message_page>>> calls;
  for (int i = 0; i < 12; ++i)
    calls.push_back(std::async(std::launch::async, [&, i] {
      imap::page_request p;
      p.page = 1 + i % 4;
      p.page_size = 5;
      return ask<imap::message_page>(comps.mail, atom::messages_v, ref,
                                     std::string{"INBOX"}, p);
    }));
  for (auto& c : calls) {
    auto r = c.get();
    ASSERT_TRUE(r) << describe(r.error());
    EXPECT_EQ(r->messages.size(), 5u);
  }
}

TEST_F(mail_engine, sends_then_flags_and_moves_in_bobs_mailbox) {
  auto from_carol = carol();
  auto to_bob = bob();
  auto token = storage::to_hex(storage::random_bytes(6));
  mime::outgoing_message msg;
  msg.to.push_back(mime::address{"Bob", mail.get("MAIL_USER2")});
  msg.subject = "Grüße " + token;
  msg.text = "Hallo Bob, schöne Grüße!";
  auto sent = ask<sent_message>(comps.mail, atom::send_v, from_carol, msg,
                                send_rules{});
  ASSERT_TRUE(sent) << describe(sent.error());
  EXPECT_FALSE(sent->message_id.empty());
  EXPECT_EQ(sent->sent_folder, "Sent") << sent->save_error;
  // It arrives in bob's INBOX (bounded wait).
  imap::search_query q;
  q.subject = token;
  uint32_t uid = 0;
  for (int i = 0; i < 50 && uid == 0; ++i) {
    auto found = ask<imap::search_result>(comps.mail, atom::search_v, to_bob,
                                          std::string{"INBOX"}, q);
    ASSERT_TRUE(found) << describe(found.error());
    if (!found->messages.empty())
      uid = found->messages.front().uid;
    else
      std::this_thread::sleep_for(200ms);
  }
  ASSERT_NE(uid, 0u) << "the message never reached bob's INBOX";
  auto read = ask<std::vector<imap::read_outcome>>(comps.mail, atom::read_v,
                                                   to_bob, std::string{"INBOX"},
                                                   std::vector<uint32_t>{uid},
                                                   imap::read_options{});
  ASSERT_TRUE(read);
  EXPECT_EQ((*read)[0].msg.summary.subject, "Grüße " + token);
  EXPECT_NE((*read)[0].msg.body.find("schöne Grüße"), std::string::npos);
  // Flag it.
  imap::flag_change change;
  change.flagged = imap::flag_action::add;
  change.seen = imap::flag_action::add;
  auto flagged = ask<imap::flag_result>(comps.mail, atom::flag_v, to_bob,
                                        std::string{"INBOX"}, uid, change);
  ASSERT_TRUE(flagged) << describe(flagged.error());
  EXPECT_NE(std::find(flagged->flags.begin(), flagged->flags.end(),
                      "\\Flagged"),
            flagged->flags.end());
  auto no_uid = ask<imap::flag_result>(comps.mail, atom::flag_v, to_bob,
                                       std::string{"INBOX"}, uint32_t{999999},
                                       change);
  ASSERT_FALSE(no_uid);
  EXPECT_EQ(no_uid.error(), ec::no_such_message);
  // Move it; a missing destination is an error, not a false success.
  auto nowhere = ask<imap::move_result>(comps.mail, atom::move_v, to_bob,
                                        std::string{"INBOX"}, uid,
                                        std::string{"No Such Folder"});
  ASSERT_FALSE(nowhere);
  EXPECT_EQ(nowhere.error(), ec::no_such_folder);
  auto moved = ask<imap::move_result>(comps.mail, atom::move_v, to_bob,
                                      std::string{"INBOX"}, uid,
                                      std::string{"Archive"});
  ASSERT_TRUE(moved) << describe(moved.error());
  EXPECT_EQ(moved->destination, "Archive");
}

TEST_F(mail_engine, sending_without_smtp_or_recipients_is_a_clear_error) {
  auto ref = carol();
  mime::outgoing_message msg;
  msg.subject = "no recipients";
  msg.text = "x";
  auto r = ask<sent_message>(comps.mail, atom::send_v, ref, msg, send_rules{});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), ec::invalid_argument) << describe(r.error());
}

TEST_F(mail_engine, send_rules_refuse_a_recipient_outside_the_allowlist) {
  auto ref = carol();
  auto token = storage::to_hex(storage::random_bytes(6));
  send_rules only_elsewhere;
  only_elsewhere.recipients = {"*@elsewhere.example", "ann@example.org"};
  mime::outgoing_message msg;
  msg.to.push_back(mime::address{"", "ann@example.org"});
  // Hidden in Bcc: the check is on the envelope, not the headers.
  msg.bcc.push_back(mime::address{"Bob", mail.get("MAIL_USER2")});
  msg.subject = "refused " + token;
  msg.text = "x";
  auto r = ask<sent_message>(comps.mail, atom::send_v, ref, msg,
                             only_elsewhere);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), ec::forbidden) << describe(r.error());
  auto text = describe(r.error());
  EXPECT_NE(text.find("may only write to anyone at elsewhere.example or "
                      "ann@example.org"),
            std::string::npos)
    << text;
  EXPECT_NE(text.find(mail.get("MAIL_USER2")), std::string::npos) << text;
  // A reply is checked on the recipients it derives: none given here.
  mime::compose_request reply;
  reply.kind = mime::compose_kind::new_message;
  reply.message.to.push_back(mime::address{"", mail.get("MAIL_USER2")});
  reply.message.subject = "refused too " + token;
  reply.message.text = "x";
  auto c = ask<mime::composed_message>(comps.mail, atom::compose_v, ref, reply,
                                       only_elsewhere);
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error(), ec::forbidden) << describe(c.error());
  // A draft is not sent, so the rules let it be saved.
  reply.draft = true;
  auto d = ask<mime::composed_message>(comps.mail, atom::compose_v, ref, reply,
                                       only_elsewhere);
  ASSERT_TRUE(d) << describe(d.error());
  // Nothing reached bob.
  imap::search_query q;
  q.subject = token;
  auto found = ask<imap::search_result>(comps.mail, atom::search_v, bob(),
                                        std::string{"INBOX"}, q);
  ASSERT_TRUE(found) << describe(found.error());
  EXPECT_TRUE(found->messages.empty());
}

TEST_F(mail_engine, wrong_password_is_reported_and_not_retried) {
  std::atomic<int> logins{0};
  postern::test::fake_server server{[&](postern::test::fake_connection& c) {
    c.send("* OK fake IMAP ready\r\n");
    while (auto line = c.read_line()) {
      auto sp = line->find(' ');
      if (sp == std::string::npos)
        continue;
      auto tag = line->substr(0, sp);
      auto rest = line->substr(sp + 1);
      if (rest.rfind("CAPABILITY", 0) == 0) {
        c.send("* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n" + tag + " OK done\r\n");
      } else if (rest.rfind("LOGIN", 0) == 0) {
        ++logins;
        c.send(tag + " NO [AUTHENTICATIONFAILED] Authentication failed.\r\n");
      } else if (rest.rfind("LOGOUT", 0) == 0) {
        c.send("* BYE\r\n" + tag + " OK bye\r\n");
        return;
      } else {
        c.send(tag + " BAD no\r\n");
      }
    }
  }};
  auto ref = add_account("nobody", "wrong", server.port(),
                         transport_security::plain);
  auto first = ask<std::vector<imap::folder>>(comps.mail, atom::folders_v, ref,
                                              false);
  ASSERT_FALSE(first);
  EXPECT_EQ(first.error(), ec::authentication_failed)
    << describe(first.error());
  EXPECT_NE(describe(first.error()).find("password"), std::string::npos);
  EXPECT_EQ(describe(first.error()).find("wrong"), std::string::npos);
  auto second = ask<std::vector<imap::folder>>(comps.mail, atom::folders_v, ref,
                                               false);
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error(), ec::authentication_failed);
  EXPECT_EQ(logins.load(), 1) << "the wrong password was tried again";
}

TEST_F(mail_engine, a_stalled_server_fails_in_time_and_others_stay_served) {
  std::atomic<int> connections{0};
  std::promise<void> stalling;
  postern::test::fake_server server{[&](postern::test::fake_connection& c) {
    ++connections;
    c.send("* OK fake IMAP ready\r\n");
    while (auto line = c.read_line()) {
      auto sp = line->find(' ');
      if (sp == std::string::npos)
        continue;
      auto tag = line->substr(0, sp);
      auto rest = line->substr(sp + 1);
      if (rest.rfind("CAPABILITY", 0) == 0)
        c.send("* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n" + tag + " OK done\r\n");
      else if (rest.rfind("LOGIN", 0) == 0)
        c.send(tag + " OK logged in\r\n");
      else if (rest.rfind("LIST", 0) == 0 && connections == 1) {
        c.send("* LIST (\\HasNoChildren) \"/\" INB"); // half a line...
        stalling.set_value();
        c.stall(); // ...then silence
        return;
      } else if (rest.rfind("LIST", 0) == 0)
        c.send("* LIST (\\HasNoChildren) \"/\" INBOX\r\n" + tag
               + " OK done\r\n");
      else if (rest.rfind("LOGOUT", 0) == 0) {
        c.send("* BYE\r\n" + tag + " OK bye\r\n");
        return;
      } else
        c.send(tag + " OK done\r\n");
    }
  }};
  auto slow = add_account("slow", "pw", server.port(),
                          transport_security::plain);
  auto fine = alice();
  auto stalled = std::async(std::launch::async, [&] {
    return ask<std::vector<imap::folder>>(comps.mail, atom::folders_v, slow,
                                          false);
  });
  // Once the slow account's call is stuck (an event, not a delay), another
  // account is served normally.
  ASSERT_EQ(stalling.get_future().wait_for(30s), std::future_status::ready);
  auto other = ask<std::vector<imap::folder>>(comps.mail, atom::folders_v, fine,
                                              false);
  ASSERT_TRUE(other) << describe(other.error());
  EXPECT_EQ(stalled.wait_for(0s), std::future_status::timeout)
    << "the stalled call should still be waiting";
  auto result = stalled.get();
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error(), ec::timed_out) << describe(result.error());
  // The fake server stops stalling when it is destroyed; the next request
  // uses a fresh connection (the stalled one was dropped).
}

TEST_F(mail_engine, unreachable_server_is_a_clear_error) {
  // A port nothing listens on.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  auto port = ntohs(addr.sin_port);
  ::close(fd);
  auto ref = add_account("x", "pw", port, transport_security::plain);
  auto r = ask<std::vector<imap::folder>>(comps.mail, atom::folders_v, ref,
                                          false);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), ec::connection_failed) << describe(r.error());
  // Within the back-off the second call fails at once with the same error.
  auto again = ask<std::vector<imap::folder>>(comps.mail, atom::folders_v, ref,
                                              false);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error(), ec::connection_failed);
}

TEST_F(mail_engine, denied_addresses_are_refused_at_connect_time) {
  // The policy is checked on the addresses the one DNS lookup returned, the
  // very ones connected to. "127.1" is no literal inet_pton accepts, so it
  // passes the name check when an account is saved, and only resolution
  // shows it is loopback: the connect itself must refuse it.
  auto deny = *host_policy::parse("private");
  secret pw{mail.get("MAIL_PASS1")};
  for (std::string host : {"localhost", "127.0.0.1", "127.1", "0x7f.1"}) {
    imap::session_options so;
    so.ca_file = mail.get("CA_FILE");
    so.timeout = std::chrono::seconds{10};
    so.hosts = deny;
    imap::session s{so};
    auto err = s.connect(server_settings{host, mail.port("IMAP_PORT"),
                                         transport_security::starttls,
                                         mail.get("MAIL_USER1")},
                         pw);
    EXPECT_EQ(err, ec::forbidden) << host << ": " << describe(err);
    EXPECT_NE(describe(err).find("private or internal"), std::string::npos)
      << describe(err);
    smtp::client_options co;
    co.timeout = std::chrono::seconds{10};
    co.hosts = deny;
    smtp::client c{co};
    auto serr = c.connect(server_settings{host, mail.port("SUBMISSION_PORT"),
                                          transport_security::starttls,
                                          mail.get("MAIL_USER1")},
                          pw);
    EXPECT_EQ(serr, ec::forbidden) << host << ": " << describe(serr);
  }
  // The same server with the policy off: the refusal above was the policy.
  imap::session_options open;
  open.ca_file = mail.get("CA_FILE");
  open.hosts = *host_policy::parse("none");
  imap::session s{open};
  auto err = s.connect(server_settings{"127.0.0.1", mail.port("IMAP_PORT"),
                                       transport_security::starttls,
                                       mail.get("MAIL_USER1")},
                       pw);
  EXPECT_FALSE(err) << describe(err);
  s.logout();
  // An unknown name is a lookup failure, not a policy refusal.
  imap::session_options so;
  so.hosts = deny;
  imap::session unknown{so};
  EXPECT_EQ(unknown.connect(server_settings{"no-such-host.invalid", 993,
                                            transport_security::tls, "x"},
                            pw),
            ec::connection_failed);
}

TEST_F(mail_engine, connection_tests_run_one_at_a_time_per_user) {
  // A black hole: accepts the connection and never greets, so a test of it
  // holds its thread until the timeout.
  test::fake_server hole{[](test::fake_connection& c) { c.stall(); }};
  account_settings s;
  s.owner = user.id;
  s.label = "hole";
  s.imap = server_settings{"127.0.0.1", hole.port(), transport_security::plain,
                           "x"};
  account_credentials creds;
  creds.imap_password = secret{"pw"};
  auto first = std::async(std::launch::async, [&] {
    return ask<probe_report>(comps.mail, atom::probe_v, s, creds);
  });
  // Wait until the first test reached the server (an event, not a delay).
  for (int i = 0; i < 2000 && hole.connections() == 0; ++i)
    std::this_thread::sleep_for(5ms);
  ASSERT_EQ(hole.connections(), 1);
  auto second = ask<probe_report>(comps.mail, atom::probe_v, s, creds);
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error(), ec::too_busy);
  EXPECT_NE(describe(second.error()).find("still running"), std::string::npos)
    << describe(second.error());
  EXPECT_EQ(hole.connections(), 1) << "the refused test must not connect";
  // Another user is not held up by this one's test.
  auto other = ask<user_info>(comps.directory, atom::add_user_v,
                              std::string{"other"}, secret{"other-password"});
  ASSERT_TRUE(other);
  account_settings good = s;
  good.owner = other->id;
  good.imap = server_settings{"127.0.0.1", mail.port("IMAP_PORT"),
                              transport_security::starttls,
                              mail.get("MAIL_USER1")};
  good.ca_file = mail.get("CA_FILE");
  account_credentials good_creds;
  good_creds.imap_password = secret{mail.get("MAIL_PASS1")};
  auto theirs = ask<probe_report>(comps.mail, atom::probe_v, good, good_creds);
  ASSERT_TRUE(theirs) << describe(theirs.error());
  EXPECT_TRUE(theirs->imap_ok) << theirs->imap_message;
  // The black-holed test ends with a timeout; then a new one may start.
  auto done = first.get();
  ASSERT_TRUE(done) << describe(done.error());
  EXPECT_FALSE(done->imap_ok);
  // The permit comes back when the ended test's down message arrives.
  int64_t open = -1;
  for (int i = 0; i < 2000 && open != 0; ++i) {
    auto status = ask<mail_status>(comps.mail, atom::status_v);
    ASSERT_TRUE(status);
    open = status->connections;
    if (open != 0)
      std::this_thread::sleep_for(5ms);
  }
  EXPECT_EQ(open, 0) << "a finished test gives its permit back";
  auto again = ask<probe_report>(comps.mail, atom::probe_v, good, good_creds);
  ASSERT_TRUE(again) << describe(again.error());
}

TEST(mail_router_probes, hourly_allowance_and_connection_permits) {
  mail_router_state st;
  st.opts.probes_per_hour = 3;
  st.opts.max_per_user = 2;
  st.opts.max_total = 3;
  auto t0 = std::chrono::steady_clock::time_point{} + std::chrono::hours{10};
  for (int i = 0; i < 3; ++i)
    EXPECT_FALSE(st.admit_probe("u1", t0 + std::chrono::minutes{i}));
  auto err = st.admit_probe("u1", t0 + std::chrono::minutes{5});
  EXPECT_EQ(err, ec::too_busy);
  EXPECT_NE(describe(err).find("in the last hour"), std::string::npos)
    << describe(err);
  // Other users have their own allowance.
  EXPECT_FALSE(st.admit_probe("u2", t0 + std::chrono::minutes{5}));
  // An hour after the first start, one test is allowed again (the second
  // start is 59.5 minutes old then).
  auto later = t0 + std::chrono::minutes{60} + std::chrono::seconds{30};
  EXPECT_FALSE(st.admit_probe("u1", later));
  EXPECT_EQ(st.admit_probe("u1", later), ec::too_busy);
  // A test needs a free connection permit, of its user and of the server.
  st.per_user["u3"] = 2;
  EXPECT_EQ(st.admit_probe("u3", t0), ec::too_busy);
  st.per_user.erase("u3");
  st.total = 3;
  EXPECT_EQ(st.admit_probe("u4", t0), ec::too_busy);
  // A user with a running test waits for it.
  st.total = 0;
  st.probing["u5"] = caf::actor_addr{};
  auto busy = st.admit_probe("u5", t0);
  EXPECT_NE(describe(busy).find("still running"), std::string::npos);
  // Only the last hour's testers are remembered.
  EXPECT_FALSE(st.admit_probe("u6", t0 + std::chrono::hours{5}));
  EXPECT_EQ(st.probe_starts.size(), 1u);
}

TEST_F(mail_engine, deleted_accounts_are_not_served) {
  auto ref = alice();
  ASSERT_TRUE(
    ask<std::vector<imap::folder>>(comps.mail, atom::folders_v, ref, false));
  ASSERT_TRUE(ask<atom::ok>(comps.directory, atom::delete_account_v, user.id,
                            ref.account));
  caf::anon_send(comps.mail, atom::forget_v, ref);
  auto r = ask<std::vector<imap::folder>>(comps.mail, atom::folders_v, ref,
                                          false);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), ec::no_such_account) << describe(r.error());
  EXPECT_NE(describe(r.error()).find("no such email account"),
            std::string::npos)
    << describe(r.error());
}

TEST_F(mail_engine, repeated_reads_come_from_the_message_cache) {
  auto ref = alice();
  imap::page_request page;
  page.page_size = 3;
  auto listed = ask<imap::message_page>(comps.mail, atom::messages_v, ref,
                                        std::string{"INBOX"}, page);
  ASSERT_TRUE(listed) << describe(listed.error());
  std::vector<uint32_t> uids;
  for (auto& m : listed->messages)
    uids.push_back(m.uid);
  auto before = ask<mail_status>(comps.mail, atom::status_v);
  ASSERT_TRUE(before);
  auto first = ask<std::vector<imap::read_outcome>>(comps.mail, atom::read_v,
                                                    ref, std::string{"INBOX"},
                                                    uids, imap::read_options{});
  auto second = ask<std::vector<imap::read_outcome>>(comps.mail, atom::read_v,
                                                     ref, std::string{"INBOX"},
                                                     uids,
                                                     imap::read_options{0, 10});
  ASSERT_TRUE(first && second);
  auto after = ask<mail_status>(comps.mail, atom::status_v);
  ASSERT_TRUE(after);
  EXPECT_GE(after->cache_hits - before->cache_hits, 3);
  EXPECT_GT(after->cache_bytes, 0);
  // Same text, windowed differently; flags still come from the server.
  for (size_t i = 0; i < uids.size(); ++i) {
    EXPECT_EQ((*first)[i].msg.body_length, (*second)[i].msg.body_length);
    EXPECT_EQ((*first)[i].msg.body.substr(0, (*second)[i].msg.body.size()),
              (*second)[i].msg.body);
    EXPECT_EQ((*first)[i].msg.summary.flags, (*second)[i].msg.summary.flags);
  }
}
