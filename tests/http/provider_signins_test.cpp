// SPDX-License-Identifier: Apache-2.0
#include "postern/error.hpp"
#include "postern/http/provider_signins.hpp"

#include <gtest/gtest.h>

#include <set>

using postern::secret;
using postern::user_id;
using postern::http::pkce_challenge;
using postern::http::provider_signin;
using postern::http::provider_signins;

namespace {

provider_signin signin_of(const std::string& user,
                          const std::string& address = "me@example.test") {
  provider_signin s;
  s.user = user_id{user};
  s.session_hash = "hash-of-" + user;
  s.provider = "testmail";
  s.address = address;
  s.verifier = secret{"verifier-" + address};
  return s;
}

/// A table on a clock the test moves.
struct fixture {
  int64_t now = 1000;
  provider_signins table;
  explicit fixture(provider_signins::options o)
    : table(o, [this] { return now; }) {
  }
};

} // namespace

TEST(provider_signins, a_sign_in_is_answered_once) {
  fixture f{{}};
  auto state = f.table.begin(signin_of("alice"));
  ASSERT_TRUE(state);
  EXPECT_EQ(state->size(), 43u);
  EXPECT_FALSE(f.table.finish("not-" + *state));
  auto got = f.table.finish(*state);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->user.value, "alice");
  EXPECT_EQ(got->address, "me@example.test");
  EXPECT_EQ(got->verifier.reveal(), "verifier-me@example.test");
  EXPECT_FALSE(f.table.finish(*state)) << "a second callback is refused";
  EXPECT_FALSE(f.table.finish(""));
  EXPECT_FALSE(f.table.finish(std::string(1000, 'A')));
}

TEST(provider_signins, states_are_fresh_random_tokens) {
  fixture f{{}};
  std::set<std::string> seen;
  for (int i = 0; i < 5; ++i) {
    auto state = f.table.begin(signin_of("u" + std::to_string(i)));
    ASSERT_TRUE(state);
    EXPECT_TRUE(seen.insert(*state).second);
    EXPECT_EQ(state->find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklm"
                                       "nopqrstuvwxyz0123456789-_"),
              std::string::npos);
  }
}

TEST(provider_signins, a_sign_in_expires_after_its_lifetime) {
  provider_signins::options o;
  o.lifetime = std::chrono::seconds(600);
  fixture f{o};
  auto early = f.table.begin(signin_of("alice"));
  auto late = f.table.begin(signin_of("bob"));
  f.now += 599'999;
  EXPECT_TRUE(f.table.finish(*early)) << "just inside the lifetime";
  f.now += 1;
  EXPECT_FALSE(f.table.finish(*late)) << "at the lifetime it is gone";
  EXPECT_EQ(f.table.size(), 0u);
}

TEST(provider_signins, a_person_keeps_only_their_newest_few) {
  provider_signins::options o;
  o.per_user = 3;
  fixture f{o};
  std::vector<std::string> states;
  for (int i = 0; i < 4; ++i) {
    f.now += 1;
    states.push_back(*f.table.begin(signin_of("alice", std::to_string(i))));
  }
  auto bob = f.table.begin(signin_of("bob"));
  EXPECT_EQ(f.table.size(), 4u);
  EXPECT_FALSE(f.table.finish(states[0])) << "the oldest made room";
  for (size_t i = 1; i < 4; ++i)
    EXPECT_TRUE(f.table.finish(states[i])) << i;
  EXPECT_TRUE(f.table.finish(*bob)) << "another person's is untouched";
}

TEST(provider_signins, the_server_refuses_beyond_its_bound) {
  provider_signins::options o;
  o.max_total = 2;
  fixture f{o};
  ASSERT_TRUE(f.table.begin(signin_of("a")));
  ASSERT_TRUE(f.table.begin(signin_of("b")));
  auto refused = f.table.begin(signin_of("c"));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error(), postern::ec::too_busy);
  // Expired ones make room again.
  f.now += 11 * 60 * 1000;
  EXPECT_TRUE(f.table.begin(signin_of("c")));
}

TEST(provider_signins, pkce_challenge_is_rfc_7636s_example) {
  // RFC 7636, appendix B.
  EXPECT_EQ(pkce_challenge(secret{"dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"}),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
}
