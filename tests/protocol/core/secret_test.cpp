// SPDX-License-Identifier: Apache-2.0
#include "postern/log.hpp"
#include "postern/secret.hpp"

#include <gtest/gtest.h>

using namespace postern;

TEST(secret, formats_as_redacted) {
  secret key{"super-secret-value"};
  auto text = fmt::format("key={} and {}", key, 42);
  EXPECT_EQ(text, "key=[redacted] and 42");
  EXPECT_EQ(text.find("super"), std::string::npos);
}

TEST(secret, compares_by_value) {
  secret a{"abc"};
  secret b{"abc"};
  secret c{"abd"};
  secret d{"abcd"};
  EXPECT_TRUE(a == b);
  EXPECT_FALSE(a == c);
  EXPECT_FALSE(a == d);
  EXPECT_TRUE(secret{} == secret{});
  EXPECT_TRUE(constant_time_equal("", ""));
  EXPECT_FALSE(constant_time_equal("a", ""));
}

TEST(secret, wipe_and_move_leave_nothing_behind) {
  secret a{std::string(100, 'x')};
  secret b{std::move(a)};
  EXPECT_TRUE(a.empty()); // NOLINT(bugprone-use-after-move): checked on purpose
  EXPECT_EQ(b.size(), 100u);
  b.wipe();
  EXPECT_TRUE(b.empty());
  secret c{"short"};
  c = secret{"other"};
  EXPECT_EQ(c.reveal(), "other");
}

TEST(json_escape, escapes_controls_and_quotes) {
  std::string out;
  append_json_escaped(out, "a\"b\\c\nd\te\x01");
  EXPECT_EQ(out, "a\\\"b\\\\c\\nd\\te\\u0001");
}

TEST(json_escape, replaces_invalid_utf8) {
  std::string out;
  // Latin-1 é, a truncated 3-byte sequence at the end, an overlong '/', a
  // surrogate, and valid UTF-8 that must survive unchanged.
  append_json_escaped(out,
                      "caf\xE9 \xC0\xAF \xED\xA0\x80 ok \xC3\xA9 \xE2\x82");
  EXPECT_EQ(out, "caf\xEF\xBF\xBD \xEF\xBF\xBD\xEF\xBF\xBD "
                 "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD ok \xC3\xA9 "
                 "\xEF\xBF\xBD\xEF\xBF\xBD");
}
