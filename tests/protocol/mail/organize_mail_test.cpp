// SPDX-License-Identifier: Apache-2.0
// The organizing operations of imap::session (threads, bulk changes, safe
// delete, folders, search of every folder) against the real Dovecot of the
// CTest fixture mail_servers, in dave's mailbox (tests/mail/seed.py). The
// seeded threads are only read; everything that changes mail works on
// messages and folders this test makes itself, so it can run beside the
// end-to-end suite, which uses the same mailbox.

#include "postern/error.hpp"
#include "postern/imap/mailbox_name.hpp"
#include "postern/imap/session.hpp"
#include "postern/mime/message_builder.hpp"
#include "support/mail_env.hpp"

#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <rapidjson/istreamwrapper.h>

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <map>

using namespace postern;
using namespace std::chrono_literals;

namespace {

/// UIDs of dave's seeded INBOX by subject (corpus.json).
std::map<std::string, std::vector<uint32_t>>
dave_inbox_by_subject(const std::string& path) {
  std::map<std::string, std::vector<uint32_t>> result;
  std::ifstream in{path};
  rapidjson::IStreamWrapper wrapper{in};
  rapidjson::Document doc;
  doc.ParseStream(wrapper);
  if (doc.HasParseError() || !doc.IsObject()
      || !doc.HasMember("dave@example.test"))
    return result;
  for (auto& e : doc["dave@example.test"]["INBOX"].GetArray())
    if (e["subject"].IsString())
      result[e["subject"].GetString()].push_back(e["uid"].GetUint());
  return result;
}

std::vector<uint32_t> uids_of(const std::vector<imap::message_summary>& list) {
  std::vector<uint32_t> result;
  for (auto& m : list)
    result.push_back(m.uid);
  return result;
}

/// The UIDs of a conversation, each checked to be in `folder`.
std::vector<uint32_t> uids_of(const std::vector<imap::found_message>& list,
                              const std::string& folder = "INBOX") {
  std::vector<uint32_t> result;
  for (auto& m : list) {
    EXPECT_EQ(m.folder, folder) << m.summary.uid;
    result.push_back(m.summary.uid);
  }
  return result;
}

/// A name no other run or test uses.
std::string unique(const std::string& stem) {
  auto now = std::chrono::steady_clock::now().time_since_epoch().count();
  return stem + " " + std::to_string(::getpid()) + "-"
         + std::to_string(now % 1000000);
}

} // namespace

class organize : public ::testing::Test {
protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(env_.load());
    inbox_ = dave_inbox_by_subject(env_.get("CORPUS_FILE"));
    ASSERT_FALSE(inbox_.empty())
      << "no dave@example.test in " << env_.get("CORPUS_FILE");
  }

  std::unique_ptr<imap::session> dave(bool server_threading = true) {
    imap::session_options opts;
    opts.ca_file = env_.get("CA_FILE");
    opts.timeout = 20s;
    opts.server_threading = server_threading;
    auto s = std::make_unique<imap::session>(opts);
    server_settings server;
    server.host = env_.get("MAIL_HOST");
    server.security = transport_security::tls;
    server.port = env_.port("IMAPS_PORT");
    server.username = env_.get("MAIL_USER_DAVE");
    auto err = s->connect(server, secret{env_.get("MAIL_PASS_DAVE")});
    EXPECT_FALSE(err) << render(err);
    return err ? nullptr : std::move(s);
  }

  /// Appends a small message to `folder`; returns its UID.
  uint32_t append(imap::session& s, const std::string& folder,
                  const std::string& subject) {
    mime::outgoing_message msg;
    msg.from = {"Dave", "dave@example.test"};
    msg.to = {{"", "bob@example.test"}};
    msg.subject = subject;
    msg.text = "text of " + subject;
    auto built = mime::build_message(msg);
    EXPECT_TRUE(built);
    auto appended = s.append(folder, built->data, {});
    EXPECT_TRUE(appended) << render(appended.error());
    return appended ? appended->uid : 0;
  }

  imap::bulk_result
  change(imap::session& s, imap::bulk_kind kind, const std::string& folder,
         std::vector<uint32_t> uids, const std::string& destination = {}) {
    imap::bulk_request req;
    req.kind = kind;
    req.folder = folder;
    req.uids = std::move(uids);
    req.destination = destination;
    req.change.flagged = imap::flag_action::add;
    auto r = s.change_messages(req);
    EXPECT_TRUE(r) << render(r.error());
    return r ? *r : imap::bulk_result{};
  }

  caf::error folder_op(imap::session& s, imap::folder_action action,
                       const std::string& name,
                       const std::string& new_name = {}) {
    auto r = s.change_folder({action, name, new_name});
    return r ? caf::error{} : r.error();
  }

  bool listed(imap::session& s, const std::string& name) {
    auto folders = s.list_folders();
    EXPECT_TRUE(folders);
    if (!folders)
      return false;
    return std::any_of(folders->begin(), folders->end(),
                       [&](const imap::folder& f) { return f.name == name; });
  }

  postern::test::mail_env env_;
  std::map<std::string, std::vector<uint32_t>> inbox_;
};

// -- threads
// ------------------------------------------------------------------------

TEST_F(organize, threads_alike_with_the_server_and_with_headers) {
  auto garden = inbox_["Garden shed plans"];
  for (auto& u : inbox_["Re: Garden shed plans"])
    garden.push_back(u);
  auto budget = inbox_["Quarterly budget review"];
  for (auto& u : inbox_["Re: Quarterly budget review"])
    budget.push_back(u);
  std::sort(garden.begin(), garden.end());
  std::sort(budget.begin(), budget.end());
  ASSERT_EQ(garden.size(), 4u);
  ASSERT_EQ(budget.size(), 3u);
  auto by_server = dave(true);
  auto by_headers = dave(false);
  ASSERT_NE(by_server, nullptr);
  ASSERT_NE(by_headers, nullptr);
  // Dovecot offers THREAD=REFERENCES; the second session must not use it.
  ASSERT_TRUE(std::count(by_server->capabilities().all.begin(),
                         by_server->capabilities().all.end(),
                         "THREAD=REFERENCES"));
  for (auto* s : {by_server.get(), by_headers.get()}) {
    auto method = s == by_server.get() ? "THREAD=REFERENCES" : "headers";
    for (auto& [expected, thread] :
         {std::pair{garden, "garden"}, std::pair{budget, "budget"}}) {
      // From any message of the thread, the whole thread, oldest first
      // (the seeded messages were written in date order).
      for (auto uid : expected) {
        auto t = s->thread("INBOX", uid);
        ASSERT_TRUE(t) << method << " " << render(t.error());
        EXPECT_EQ(t->method, method);
        EXPECT_EQ(uids_of(t->messages), expected)
          << method << " " << thread << " from " << uid;
        EXPECT_EQ(t->total, expected.size());
        EXPECT_EQ(t->messages.front().summary.subject.rfind("Re: ", 0),
                  std::string::npos);
      }
    }
    // A message nobody answered is a thread of its own.
    auto single = inbox_.begin()->second.front();
    if (std::find(garden.begin(), garden.end(), single) == garden.end()
        && std::find(budget.begin(), budget.end(), single) == budget.end()) {
      auto t = s->thread("INBOX", single);
      ASSERT_TRUE(t) << render(t.error());
      EXPECT_EQ(uids_of(t->messages), std::vector<uint32_t>{single});
    }
    EXPECT_EQ(s->thread("INBOX", 999999).error(), ec::no_such_message)
      << method;
    EXPECT_EQ(s->thread("INBOX", 0).error(), ec::no_such_message) << method;
    EXPECT_EQ(s->thread("No such folder", 1).error(), ec::no_such_folder)
      << method;
    EXPECT_TRUE(s->usable());
  }
}

TEST_F(organize, threads_join_the_replies_in_sent) {
  auto garden = inbox_["Garden shed plans"];
  for (auto& u : inbox_["Re: Garden shed plans"])
    garden.push_back(u);
  std::sort(garden.begin(), garden.end());
  ASSERT_EQ(garden.size(), 4u);
  auto s = dave();
  ASSERT_NE(s, nullptr);
  auto before = s->thread("INBOX", garden.front());
  ASSERT_TRUE(before) << render(before.error());
  auto sent = s->find_special_use("\\Sent");
  ASSERT_TRUE(sent) << render(sent.error());
  // Dave's own reply to the last message, kept in Sent as clients do.
  mime::outgoing_message msg;
  msg.from = {"Dave", "dave@example.test"};
  msg.to = {{"", "bob@example.test"}};
  msg.subject = "Re: Garden shed plans";
  msg.text = "my answer, from Sent";
  msg.in_reply_to = before->messages.back().summary.message_id;
  for (auto& m : before->messages)
    msg.references.push_back(m.summary.message_id);
  auto built = mime::build_message(msg);
  ASSERT_TRUE(built);
  auto appended = s->append(*sent, built->data, {});
  ASSERT_TRUE(appended) << render(appended.error());
  ASSERT_NE(appended->uid, 0u);
  // And a message in Sent that belongs to no conversation of INBOX.
  auto unrelated = append(*s, *sent, unique("Unrelated in Sent"));
  for (bool server_threading : {true, false}) {
    auto session = dave(server_threading);
    ASSERT_NE(session, nullptr);
    for (auto uid : {garden.front(), garden.back()}) {
      auto t = session->thread("INBOX", uid);
      ASSERT_TRUE(t) << render(t.error());
      ASSERT_EQ(t->messages.size(), 5u) << t->method;
      EXPECT_EQ(t->total, 5u);
      // The reply is the newest: last, and in Sent; the rest in INBOX.
      auto reply = t->messages.back();
      t->messages.pop_back();
      EXPECT_EQ(reply.summary.message_id, built->message_id);
      EXPECT_EQ(reply.summary.uid, appended->uid);
      EXPECT_EQ(reply.folder, *sent);
      EXPECT_EQ(uids_of(t->messages), garden) << t->method;
    }
    // Asked from Sent itself: that folder's thread (the reply alone, its
    // originals are in INBOX), not joined twice.
    auto from_sent = session->thread(*sent, appended->uid);
    ASSERT_TRUE(from_sent) << render(from_sent.error());
    EXPECT_EQ(uids_of(from_sent->messages, *sent),
              std::vector<uint32_t>{appended->uid});
    EXPECT_EQ(from_sent->total, 1u);
  }
  // Leave dave's mailbox as it was: out of Sent, then out of Trash.
  for (auto uid : {appended->uid, unrelated}) {
    auto trashed = change(*s, imap::bulk_kind::remove, *sent, {uid});
    ASSERT_EQ(trashed.outcomes.size(), 1u);
    auto trash = s->find_special_use("\\Trash");
    ASSERT_TRUE(trash);
    change(*s, imap::bulk_kind::remove, *trash, {trashed.outcomes[0].new_uid});
  }
}

// -- bulk changes and safe delete
// ----------------------------------------------------------

TEST_F(organize, copies_moves_flags_and_deletes_with_per_uid_outcomes) {
  auto s = dave();
  ASSERT_NE(s, nullptr);
  auto mine = unique("Bulk");
  auto other = unique("Bulk copy");
  ASSERT_FALSE(folder_op(*s, imap::folder_action::create, mine));
  ASSERT_FALSE(folder_op(*s, imap::folder_action::create, other));
  std::vector<uint32_t> uids;
  for (auto subject : {"one", "two", "three"})
    uids.push_back(append(*s, mine, subject));
  ASSERT_EQ(std::count(uids.begin(), uids.end(), 0u), 0);

  // Copy two and a UID that does not exist: two new UIDs, one error.
  auto copied = change(*s, imap::bulk_kind::copy, mine,
                       {uids[0], 999999, uids[1]}, other);
  ASSERT_EQ(copied.outcomes.size(), 3u);
  EXPECT_FALSE(copied.outcomes[0].error);
  EXPECT_NE(copied.outcomes[0].new_uid, 0u);
  EXPECT_EQ(copied.outcomes[1].error, ec::no_such_message);
  EXPECT_NE(copied.outcomes[2].new_uid, 0u);
  auto read = s->read_message(other, copied.outcomes[2].new_uid);
  ASSERT_TRUE(read) << render(read.error());
  EXPECT_EQ(read->summary.subject, "two");
  EXPECT_TRUE(s->read_message(mine, uids[0])); // the original stays

  // Flag several.
  auto flagged = change(*s, imap::bulk_kind::flag, mine,
                        {uids[0], uids[2], 888888});
  EXPECT_EQ(flagged.added, std::vector<std::string>{"\\Flagged"});
  ASSERT_EQ(flagged.outcomes.size(), 3u);
  for (size_t i : {0u, 1u}) {
    auto& flags = flagged.outcomes[i].flags;
    EXPECT_TRUE(std::count(flags.begin(), flags.end(), "\\Flagged")) << i;
  }
  EXPECT_EQ(flagged.outcomes[2].error, ec::no_such_message);

  // Move several: gone here, there with their new UIDs.
  auto moved = change(*s, imap::bulk_kind::move, other,
                      {copied.outcomes[0].new_uid, copied.outcomes[2].new_uid},
                      mine);
  ASSERT_EQ(moved.outcomes.size(), 2u);
  for (auto& o : moved.outcomes) {
    EXPECT_FALSE(o.error);
    EXPECT_EQ(s->read_message(other, o.uid).error(), ec::no_such_message);
    auto m = s->read_message(mine, o.new_uid);
    ASSERT_TRUE(m);
    EXPECT_EQ(m->summary.subject,
              o.uid == copied.outcomes[0].new_uid ? "one" : "two");
  }
  auto to_nowhere = s->change_messages(
    {imap::bulk_kind::move, mine, {uids[0]}, "No such folder", {}});
  ASSERT_FALSE(to_nowhere);
  EXPECT_EQ(to_nowhere.error(), ec::no_such_folder);

  // Delete: into Trash first, with its new UID there.
  auto trash = s->find_special_use("\\Trash");
  ASSERT_TRUE(trash);
  auto trashed = change(*s, imap::bulk_kind::remove, mine, {uids[1], 777777});
  EXPECT_EQ(trashed.destination, *trash);
  ASSERT_EQ(trashed.outcomes.size(), 2u);
  ASSERT_FALSE(trashed.outcomes[0].error);
  auto in_trash = trashed.outcomes[0].new_uid;
  ASSERT_NE(in_trash, 0u);
  EXPECT_EQ(trashed.outcomes[1].error, ec::no_such_message);
  EXPECT_EQ(s->read_message(mine, uids[1]).error(), ec::no_such_message);
  // The UID reported is the message's UID in Trash (purging it must never
  // hit another message).
  auto there = s->read_message(*trash, in_trash);
  ASSERT_TRUE(there) << render(there.error());
  ASSERT_EQ(there->summary.subject, "two");

  // In Trash, delete removes for good: exactly that UID. Another message in
  // Trash marked \Deleted by someone else survives (no folder-wide EXPUNGE).
  auto bystander_uid = change(*s, imap::bulk_kind::remove, mine, {uids[2]})
                         .outcomes.at(0)
                         .new_uid;
  ASSERT_NE(bystander_uid, 0u);
  auto bystander = s->read_message(*trash, bystander_uid);
  ASSERT_TRUE(bystander);
  ASSERT_EQ(bystander->summary.subject, "three");
  imap::flag_change deleted_flag;
  deleted_flag.deleted = imap::flag_action::add;
  ASSERT_TRUE(s->set_flags(*trash, bystander_uid, deleted_flag));
  auto purged = change(*s, imap::bulk_kind::remove, *trash, {in_trash});
  EXPECT_TRUE(purged.destination.empty());
  ASSERT_EQ(purged.outcomes.size(), 1u);
  EXPECT_FALSE(purged.outcomes[0].error);
  EXPECT_EQ(s->read_message(*trash, in_trash).error(), ec::no_such_message);
  EXPECT_TRUE(s->read_message(*trash, bystander_uid))
    << "an EXPUNGE purged the bystander";
  auto purged_bystander = change(*s, imap::bulk_kind::remove, *trash,
                                 {bystander_uid});
  EXPECT_FALSE(purged_bystander.outcomes.at(0).error);

  // Clean up: empty both folders (through Trash), then delete them.
  for (auto& folder : {mine, other}) {
    auto page = s->list_messages(folder, {});
    ASSERT_TRUE(page);
    auto left = uids_of(page->messages);
    if (!left.empty()) {
      auto gone = change(*s, imap::bulk_kind::remove, folder, left);
      std::vector<uint32_t> trashed_uids;
      for (auto& o : gone.outcomes)
        trashed_uids.push_back(o.new_uid);
      change(*s, imap::bulk_kind::remove, *trash, trashed_uids);
    }
    EXPECT_FALSE(folder_op(*s, imap::folder_action::remove, folder)) << folder;
  }
  EXPECT_TRUE(s->usable());
}

// -- folders
// ------------------------------------------------------------------------

TEST_F(organize, creates_renames_and_deletes_folders_in_modified_utf7) {
  auto s = dave();
  ASSERT_NE(s, nullptr);
  auto parent = unique("Organize Grüße & Co");
  auto child = parent + "/日本語 ✓";
  auto created = s->change_folder({imap::folder_action::create, child, {}});
  ASSERT_TRUE(created) << render(created.error());
  EXPECT_EQ(created->name, child);
  EXPECT_EQ(created->delimiter, "/");
  EXPECT_TRUE(listed(*s, child));
  // The name went out in modified UTF-7 and comes back decoded; a message
  // can be stored there.
  EXPECT_NE(imap::wire_mailbox_name(child).find("&"), std::string::npos);
  EXPECT_NE(append(*s, child, "in a non-ASCII folder"), 0u);
  EXPECT_EQ(folder_op(*s, imap::folder_action::create, child),
            ec::already_exists);

  auto renamed_to = parent + "/Überblick";
  auto renamed
    = s->change_folder({imap::folder_action::rename, child, renamed_to});
  ASSERT_TRUE(renamed) << render(renamed.error());
  EXPECT_EQ(renamed->name, renamed_to);
  EXPECT_TRUE(listed(*s, renamed_to));
  EXPECT_FALSE(listed(*s, child));
  EXPECT_EQ(folder_op(*s, imap::folder_action::rename, child, parent + "/x"),
            ec::no_such_folder);
  EXPECT_EQ(folder_op(*s, imap::folder_action::rename, renamed_to, "Projekte"),
            ec::already_exists);

  // Protected: INBOX and special-use folders, and a folder still holding mail.
  for (auto name : {"INBOX", "Trash", "Sent", "Drafts", "Junk", "Archive"}) {
    EXPECT_EQ(folder_op(*s, imap::folder_action::rename, name,
                        unique("Stolen")),
              ec::invalid_argument)
      << name;
    EXPECT_EQ(folder_op(*s, imap::folder_action::remove, name),
              ec::invalid_argument)
      << name;
    EXPECT_TRUE(listed(*s, name)) << name;
  }
  auto full = s->change_folder({imap::folder_action::remove, "Projekte", {}});
  ASSERT_FALSE(full);
  EXPECT_EQ(full.error(), ec::invalid_argument);
  EXPECT_NE(describe(full.error()).find("still holds 2 messages"),
            std::string::npos)
    << describe(full.error());
  auto nonempty
    = s->change_folder({imap::folder_action::remove, renamed_to, {}});
  EXPECT_EQ(nonempty.error(), ec::invalid_argument);

  // Bad names never reach the server.
  for (auto bad :
       {std::string{"a*b"}, std::string{"x%"}, parent + "//y",
        std::string{"/lead"}, std::string{"tab\there"}, std::string{"inbox"}})
    EXPECT_EQ(folder_op(*s, imap::folder_action::create, bad),
              ec::invalid_argument)
      << bad;
  EXPECT_EQ(folder_op(*s, imap::folder_action::remove, unique("Never made")),
            ec::no_such_folder);

  // Empty it (through Trash), then delete it and its parent.
  auto page = s->list_messages(renamed_to, {});
  ASSERT_TRUE(page);
  auto trashed = change(*s, imap::bulk_kind::remove, renamed_to,
                        uids_of(page->messages));
  auto trash = s->find_special_use("\\Trash");
  ASSERT_TRUE(trash);
  change(*s, imap::bulk_kind::remove, *trash, {trashed.outcomes.at(0).new_uid});
  EXPECT_FALSE(folder_op(*s, imap::folder_action::remove, renamed_to));
  EXPECT_FALSE(listed(*s, renamed_to));
  if (listed(*s,
             parent)) { // Dovecot keeps the parent only when made explicitly
    EXPECT_FALSE(folder_op(*s, imap::folder_action::remove, parent));
  }
  EXPECT_EQ(folder_op(*s, imap::folder_action::remove, renamed_to),
            ec::no_such_folder);
  EXPECT_TRUE(s->usable());
}

// -- search of every folder
// -----------------------------------------------------------

TEST_F(organize, searches_every_folder) {
  auto s = dave();
  ASSERT_NE(s, nullptr);
  imap::search_query q;
  q.subject = "Garden shed plans";
  q.limit = 50;
  auto found = s->search_everywhere(q);
  ASSERT_TRUE(found) << render(found.error());
  EXPECT_TRUE(found->errors.empty());
  // INBOX, Drafts, Sent, Trash, Junk, Archive, Projekte at least.
  EXPECT_GE(found->folders_searched, 7u);
  size_t in_inbox = 0;
  for (auto& m : found->messages)
    if (m.folder == "INBOX")
      ++in_inbox;
  EXPECT_EQ(in_inbox, 4u);
  // Newest first across folders.
  for (size_t i = 1; i < found->messages.size(); ++i)
    EXPECT_GE(found->messages[i - 1].summary.received,
              found->messages[i].summary.received);
  // Trash's seeded messages are found too.
  q = {};
  q.subject = "Quarterly report";
  auto trash_hit = s->search_everywhere(q);
  ASSERT_TRUE(trash_hit);
  EXPECT_TRUE(std::any_of(trash_hit->messages.begin(),
                          trash_hit->messages.end(),
                          [](auto& m) { return m.folder == "Trash"; }));
}
