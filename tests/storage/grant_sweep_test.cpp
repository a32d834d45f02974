// SPDX-License-Identifier: Apache-2.0
#include "postern/error.hpp"
#include "postern/storage/environment.hpp"
#include "postern/storage/grant_sweep.hpp"
#include "support/lmdb_env.hpp"

#include <gtest/gtest.h>

#include <cstdlib>

using namespace postern;
using namespace postern::storage;

namespace {

class grant_sweep : public test::lmdb_env, public ::testing::Test {
protected:
  grant_sweep() : lmdb_env("postern-sweep") {
    // nop
  }

  size_t count(table t) {
    size_t n = 0;
    EXPECT_FALSE(env->read([&](const txn& x) -> caf::error {
      n = x.count(t);
      return caf::none;
    }));
    return n;
  }
};

} // namespace

TEST_F(grant_sweep, sweeps_everything_in_bounded_steps) {
  const int64_t now = 1'000'000;
  // One live grant with a live and an expired access token, one grant past
  // its end with tokens, and 20 expired access tokens of the live grant.
  ASSERT_FALSE(env->write([&](txn& t) -> caf::error {
    grant_info live;
    live.id = grant_id{"g-live"};
    live.user = user_id{"u1"};
    put_grant(t, live);
    grant_info ended = live;
    ended.id = grant_id{"g-ended"};
    ended.expires_at = now - 1;
    put_grant(t, ended);
    for (int i = 0; i < 22; ++i) {
      access_token_record rec;
      rec.user = live.user;
      rec.grant = i == 21 ? ended.id : live.id;
      rec.expires_at = i == 0 ? now + 3600 : now - 1;
      // Digests spread over the slices, as real (random) ones are.
      put_access_token(t, std::string(1, static_cast<char>(i * 11)) + "digest",
                       rec);
    }
    refresh_token_record r;
    r.user = live.user;
    r.grant = ended.id;
    r.expires_at = now + 3600;
    put_refresh_token(t, "refresh-ended", r);
    r.grant = live.id;
    put_refresh_token(t, "refresh-live", r);
    return caf::none;
  }));
  ASSERT_EQ(count(table::access_tokens), 22u);
  sweep_cursor cursor;
  sweep_counts counts;
  size_t steps = 0;
  while (!cursor.done()) {
    ASSERT_FALSE(env->write([&](txn& t) -> caf::error {
      sweep_grants_step(t, now, cursor, 4, counts);
      return caf::none;
    }));
    ++steps;
    ASSERT_LT(steps, 100u) << "the cursor does not advance";
  }
  // About 4 entries per step: the 22 tokens alone need several steps.
  EXPECT_GE(steps, 5u);
  EXPECT_EQ(counts.grants, 1u);
  EXPECT_EQ(count(table::access_tokens), 1u);
  EXPECT_EQ(count(table::refresh_tokens), 1u);
  EXPECT_FALSE(env->read([&](const txn& t) -> caf::error {
    EXPECT_TRUE(find_access_token(t, std::string(1, '\0') + "digest"));
    EXPECT_TRUE(find_refresh_token(t, "refresh-live"));
    EXPECT_FALSE(find_grant(t, user_id{"u1"}, grant_id{"g-ended"}));
    EXPECT_TRUE(find_grant(t, user_id{"u1"}, grant_id{"g-live"}));
    return caf::none;
  }));
  // The one-transaction form finds nothing more.
  sweep_counts again;
  EXPECT_FALSE(env->write([&](txn& t) -> caf::error {
    again = sweep_grants(t, now);
    return caf::none;
  }));
  EXPECT_EQ(again.access_tokens + again.refresh_tokens + again.grants, 0u);
}
