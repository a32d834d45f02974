// SPDX-License-Identifier: Apache-2.0
#include "postern/imap/text_cache.hpp"

#include <gtest/gtest.h>

using postern::imap::decoded_text;
using postern::imap::text_cache;

TEST(text_cache, keys_separate_accounts_mailboxes_and_uidvalidity) {
  EXPECT_NE(text_cache::key("u/a", "INBOX", 1, 5),
            text_cache::key("u/b", "INBOX", 1, 5));
  EXPECT_NE(text_cache::key("u/a", "INBOX", 1, 5),
            text_cache::key("u/a", "INBOX", 2, 5));
  EXPECT_NE(text_cache::key("u/a", "INBOX", 1, 5),
            text_cache::key("u/a", "Sent", 1, 5));
  EXPECT_NE(text_cache::key("a", "b1", 2, 3), text_cache::key("a", "b", 12, 3));
}

TEST(text_cache, hits_misses_and_least_recently_used_eviction) {
  text_cache cache{4 * 1000};
  cache.put("k1", decoded_text{std::string(600, 'a'), false, false});
  cache.put("k2", decoded_text{std::string(600, 'b'), true, false});
  ASSERT_TRUE(cache.get("k1"));
  EXPECT_EQ(cache.get("k2")->text, std::string(600, 'b'));
  EXPECT_TRUE(cache.get("k2")->html);
  EXPECT_FALSE(cache.get("nope"));
  EXPECT_EQ(cache.hits(), 3u);
  EXPECT_EQ(cache.misses(), 1u);
  // k1 is now the least recently used; filling the cache evicts it first.
  for (int i = 3; i < 10; ++i)
    cache.put("k" + std::to_string(i), decoded_text{std::string(600, 'c'), false, false});
  EXPECT_LE(cache.bytes(), 4000u);
  EXPECT_FALSE(cache.get("k1"));
  EXPECT_TRUE(cache.get("k9"));
  // A text bigger than a quarter of the cache is not kept at all.
  cache.put("huge", decoded_text{std::string(2000, 'h'), false, false});
  EXPECT_FALSE(cache.get("huge"));
  text_cache off{0};
  off.put("k", decoded_text{"x", false, false});
  EXPECT_FALSE(off.get("k"));
}
