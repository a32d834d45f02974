// SPDX-License-Identifier: Apache-2.0
#include "postern/clock.hpp"
#include "postern/http/token_memo.hpp"
#include "postern/storage/grant_store.hpp"
#include "support/test_clock.hpp"

#include <gtest/gtest.h>

using postern::access_grant;
using postern::http::token_memo;
using namespace std::chrono_literals;

namespace {

access_grant grant_for(const std::string& user, int64_t expires_in = 3600) {
  access_grant g;
  g.grant.user.value = user;
  g.expires_at = postern::unix_seconds() + expires_in;
  return g;
}

} // namespace

TEST(token_memo, remembers_a_validation_until_the_recheck_interval) {
  postern::test::test_clock clock;
  token_memo memo{200ms, 1000};
  auto epoch = postern::storage::grants_epoch();
  EXPECT_FALSE(memo.find("digest-a"));
  memo.remember("digest-a", grant_for("alice"), epoch);
  auto found = memo.find("digest-a");
  ASSERT_TRUE(found);
  EXPECT_EQ(found->grant.user.value, "alice");
  EXPECT_FALSE(memo.find("digest-b"));
  clock.advance(199ms);
  EXPECT_TRUE(memo.find("digest-a")) << "younger than the recheck interval";
  clock.advance(1ms);
  EXPECT_FALSE(memo.find("digest-a")) << "as old as the recheck interval";
}

TEST(token_memo, any_revocation_in_the_process_ends_every_entry) {
  token_memo memo{60s, 1000};
  auto epoch = postern::storage::grants_epoch();
  memo.remember("digest-a", grant_for("alice"), epoch);
  memo.remember("digest-b", grant_for("bob"), epoch);
  ASSERT_TRUE(memo.find("digest-a"));
  postern::storage::note_grants_changed();
  EXPECT_FALSE(memo.find("digest-a"));
  EXPECT_FALSE(memo.find("digest-b"));
}

TEST(token_memo, an_answer_older_than_a_revocation_is_never_trusted) {
  // The epoch is read before asking the TOKEN AUTHORITY; a revocation that
  // lands while the question is out makes the answer stale at once.
  token_memo memo{60s, 1000};
  auto epoch = postern::storage::grants_epoch();
  postern::storage::note_grants_changed();
  memo.remember("digest-a", grant_for("alice"), epoch);
  EXPECT_FALSE(memo.find("digest-a"));
}

TEST(token_memo, expired_tokens_are_not_served) {
  token_memo memo{60s, 1000};
  memo.remember("digest-a", grant_for("alice", -1),
                postern::storage::grants_epoch());
  EXPECT_FALSE(memo.find("digest-a"));
}

TEST(token_memo, stays_within_its_capacity_and_can_be_off) {
  token_memo memo{60s, 32}; // two entries per shard
  auto epoch = postern::storage::grants_epoch();
  for (int i = 0; i < 1000; ++i)
    memo.remember(std::string(1, static_cast<char>(i % 251))
                    + std::to_string(i),
                  grant_for("u"), epoch);
  size_t kept = 0;
  for (int i = 0; i < 1000; ++i)
    if (memo.find(std::string(1, static_cast<char>(i % 251))
                  + std::to_string(i)))
      ++kept;
  EXPECT_LE(kept, 32u);
  EXPECT_GT(kept, 0u);
  token_memo off{0ms, 1000};
  off.remember("digest-a", grant_for("alice"), epoch);
  EXPECT_FALSE(off.find("digest-a"));
}
