// SPDX-License-Identifier: Apache-2.0
#include "postern/error.hpp"
#include "postern/storage/directory_store.hpp"
#include "postern/storage/environment.hpp"
#include "postern/storage/outbox_store.hpp"
#include "support/lmdb_env.hpp"

#include <gtest/gtest.h>

using namespace postern;
using namespace postern::storage;

namespace {

class outbox_store : public test::lmdb_env, public ::testing::Test {
protected:
  outbox_store() : lmdb_env("postern-outbox") {
    // nop
  }

  outbox_entry held(const std::string& user, const std::string& account,
                    int64_t created, int64_t expires) {
    outbox_entry e;
    e.id = new_outbox_id();
    e.user = user_id{user};
    e.account = account_id{account};
    e.grant = grant_id{"g1"};
    e.client_name = "Claude";
    e.account_label = "Work";
    e.created = created;
    e.expires = expires;
    e.message.message_id = "<m" + e.id + "@example.test>";
    e.message.sender = "alice@example.test";
    e.message.recipients = {"bob@example.test", "secret@example.test"};
    e.message.data = "Subject: hi\r\n\r\nthe body\r\n";
    e.message.from = "alice@example.test";
    e.message.to = {"Bob <bob@example.test>"};
    e.message.bcc = {"secret@example.test"};
    e.message.subject = "hi";
    e.message.text = "the body";
    e.message.attachments = {"a.pdf (3 KB)"};
    EXPECT_FALSE(env->write([&](txn& t) -> caf::error {
      put_outbox_entry(t, e);
      return caf::none;
    }));
    return e;
  }

  template <class F>
  auto reading(F f) {
    decltype(f(std::declval<const txn&>())) out{};
    EXPECT_FALSE(env->read([&](const txn& t) -> caf::error {
      out = f(t);
      return caf::none;
    }));
    return out;
  }

  template <class F>
  auto writing(F f) {
    decltype(f(std::declval<txn&>())) out{};
    EXPECT_FALSE(env->write([&](txn& t) -> caf::error {
      out = f(t);
      return caf::none;
    }));
    return out;
  }
};

} // namespace

TEST_F(outbox_store, keeps_the_bytes_only_while_pending) {
  auto e = held("u1", "a1", 100, 200);
  EXPECT_EQ(e.id.size(), 24u);
  auto listed = reading([&](const txn& t) { return list_outbox(t, e.user); });
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].message.subject, "hi");
  EXPECT_EQ(listed[0].message.bcc, e.message.bcc);
  EXPECT_EQ(listed[0].message.attachments, e.message.attachments);
  EXPECT_TRUE(listed[0].message.data.empty()) << "listings carry no bytes";
  auto loaded = reading(
    [&](const txn& t) { return load_held_message(t, e.user, e.id); });
  ASSERT_TRUE(loaded);
  EXPECT_EQ(loaded->message.data, e.message.data);
  EXPECT_EQ(loaded->message.recipients, e.message.recipients);
  EXPECT_EQ(loaded->message.sender, "alice@example.test");
  auto sent = writing([&](txn& t) {
    return decide_outbox_entry(t, e.user, e.id, outbox_status::sent, 150,
                               "Sent");
  });
  ASSERT_TRUE(sent);
  EXPECT_EQ(sent->status, outbox_status::sent);
  EXPECT_EQ(sent->decided, 150);
  EXPECT_EQ(sent->sent_folder, "Sent");
  EXPECT_FALSE(reading(
    [&](const txn& t) { return load_held_message(t, e.user, e.id); }));
  EXPECT_EQ(reading([](const txn& t) { return t.count(table::outbox_mail); }),
            0u);
}

TEST_F(outbox_store, a_decision_is_made_once) {
  auto e = held("u1", "a1", 100, 200);
  EXPECT_TRUE(writing([&](txn& t) {
    return decide_outbox_entry(t, e.user, e.id, outbox_status::discarded, 120);
  }));
  // Neither a second discard nor a late send changes it.
  EXPECT_FALSE(writing([&](txn& t) {
    return decide_outbox_entry(t, e.user, e.id, outbox_status::sent, 130);
  }));
  auto found = reading(
    [&](const txn& t) { return find_outbox_entry(t, e.user, e.id); });
  ASSERT_TRUE(found);
  EXPECT_EQ(found->status, outbox_status::discarded);
  EXPECT_EQ(found->decided, 120);
}

TEST_F(outbox_store, a_person_reaches_only_their_own_entries) {
  auto e = held("u1", "a1", 100, 200);
  EXPECT_FALSE(reading(
    [&](const txn& t) { return find_outbox_entry(t, user_id{"u2"}, e.id); }));
  EXPECT_FALSE(writing([&](txn& t) {
    return decide_outbox_entry(t, user_id{"u2"}, e.id, outbox_status::sent, 1);
  }));
  // Path tricks never reach another key.
  EXPECT_FALSE(reading([&](const txn& t) {
    return find_outbox_entry(t, user_id{"u1"}, "../" + e.id);
  }));
  EXPECT_FALSE(reading(
    [&](const txn& t) { return find_outbox_entry(t, user_id{"u1"}, ""); }));
}

TEST_F(outbox_store, failures_are_noted_and_leave_it_pending) {
  auto e = held("u1", "a1", 100, 200);
  writing([&](txn& t) {
    note_outbox_failure(t, e.user, e.id, "the SMTP server said no");
    return 0;
  });
  auto found = reading(
    [&](const txn& t) { return load_held_message(t, e.user, e.id); });
  ASSERT_TRUE(found);
  EXPECT_EQ(found->status, outbox_status::pending);
  EXPECT_EQ(found->error, "the SMTP server said no");
  EXPECT_EQ(reading([&](const txn& t) { return count_pending(t, e.user); }),
            1u);
}

TEST_F(outbox_store, the_sweep_expires_and_forgets_in_bounded_steps) {
  auto due = held("u1", "a1", 100, 200);
  auto later = held("u1", "a1", 110, 10'000);
  auto old = held("u2", "a9", 10, 20);
  writing([&](txn& t) {
    return decide_outbox_entry(t, old.user, old.id, outbox_status::sent, 30);
  });
  auto swept = writing([](txn& t) { return sweep_outbox(t, 500, 40, 1000); });
  ASSERT_EQ(swept.expired.size(), 1u);
  EXPECT_EQ(swept.expired[0].id, due.id);
  EXPECT_EQ(swept.expired[0].status, outbox_status::expired);
  EXPECT_EQ(swept.dropped, 1u);
  EXPECT_FALSE(reading(
    [&](const txn& t) { return find_outbox_entry(t, old.user, old.id); }));
  auto still = reading(
    [&](const txn& t) { return find_outbox_entry(t, later.user, later.id); });
  ASSERT_TRUE(still);
  EXPECT_EQ(still->status, outbox_status::pending);
  // With a limit of one, two due entries take two sweeps.
  held("u3", "a1", 1, 2);
  held("u3", "a1", 1, 2);
  EXPECT_EQ(writing([](txn& t) { return sweep_outbox(t, 500, 0, 1); })
              .expired.size(),
            1u);
  EXPECT_EQ(writing([](txn& t) { return sweep_outbox(t, 500, 0, 1); })
              .expired.size(),
            1u);
  EXPECT_EQ(writing([](txn& t) { return sweep_outbox(t, 500, 0, 1); })
              .expired.size(),
            0u);
}

TEST_F(outbox_store, deleting_an_account_or_user_takes_its_messages) {
  auto a = held("u1", "a1", 100, 200);
  auto b = held("u1", "a2", 101, 200);
  auto c = held("u2", "a3", 102, 200);
  writing([&](txn& t) {
    erase_outbox_of_account(t, a.user, a.account);
    return 0;
  });
  auto left = reading([&](const txn& t) { return list_outbox(t, a.user); });
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(left[0].id, b.id);
  writing([&](txn& t) {
    erase_outbox_of_user(t, a.user);
    return 0;
  });
  EXPECT_TRUE(
    reading([&](const txn& t) { return list_outbox(t, a.user); }).empty());
  EXPECT_EQ(reading([&](const txn& t) { return list_outbox(t, c.user); }).size(),
            1u);
  EXPECT_EQ(reading([](const txn& t) { return t.count(table::outbox_mail); }),
            1u);
}

TEST_F(outbox_store, listings_are_newest_first) {
  auto first = held("u1", "a1", 100, 900);
  auto second = held("u1", "a1", 300, 900);
  auto third = held("u1", "a1", 200, 900);
  auto listed = reading(
    [&](const txn& t) { return list_outbox(t, user_id{"u1"}); });
  ASSERT_EQ(listed.size(), 3u);
  EXPECT_EQ(listed[0].id, second.id);
  EXPECT_EQ(listed[1].id, third.id);
  EXPECT_EQ(listed[2].id, first.id);
}
