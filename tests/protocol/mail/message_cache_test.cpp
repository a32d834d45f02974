// SPDX-License-Identifier: Apache-2.0
#include "postern/imap/message_cache.hpp"

#include <gtest/gtest.h>

using postern::imap::decoded_text;
using postern::imap::message_cache;
using postern::imap::message_facts;

namespace {

message_facts facts_of(uint32_t uid, std::string subject) {
  message_facts f;
  f.summary.uid = uid;
  f.summary.subject = std::move(subject);
  f.summary.flags = {"\\Seen"};
  f.structure.type = "text";
  f.structure.subtype = "plain";
  f.references = {"<a@example.test>"};
  return f;
}

} // namespace

TEST(message_cache, keys_separate_accounts_mailboxes_and_uidvalidity) {
  EXPECT_NE(message_cache::key("u/a", "INBOX", 1, 5),
            message_cache::key("u/b", "INBOX", 1, 5));
  EXPECT_NE(message_cache::key("u/a", "INBOX", 1, 5),
            message_cache::key("u/a", "INBOX", 2, 5));
  EXPECT_NE(message_cache::key("u/a", "INBOX", 1, 5),
            message_cache::key("u/a", "Sent", 1, 5));
  EXPECT_NE(message_cache::key("a", "b1", 2, 3),
            message_cache::key("a", "b", 12, 3));
}

TEST(message_cache, hits_misses_and_least_recently_used_eviction) {
  message_cache cache{4 * 1000};
  cache.put_text("k1", decoded_text{std::string(600, 'a'), false, false});
  cache.put_text("k2", decoded_text{std::string(600, 'b'), true, false});
  ASSERT_TRUE(cache.text("k1"));
  EXPECT_EQ(cache.text("k2")->text, std::string(600, 'b'));
  EXPECT_TRUE(cache.text("k2")->html);
  EXPECT_FALSE(cache.text("nope"));
  EXPECT_EQ(cache.hits(), 3u);
  EXPECT_EQ(cache.misses(), 1u);
  // k1 is now the least recently used; filling the cache evicts it first.
  for (int i = 3; i < 10; ++i)
    cache.put_text("k" + std::to_string(i),
                   decoded_text{std::string(600, 'c'), false, false});
  EXPECT_LE(cache.bytes(), 4000u);
  EXPECT_FALSE(cache.text("k1"));
  EXPECT_TRUE(cache.text("k9"));
  // A text bigger than a quarter of the cache is not kept at all.
  cache.put_text("huge", decoded_text{std::string(2000, 'h'), false, false});
  EXPECT_FALSE(cache.text("huge"));
  message_cache off{0};
  off.put_text("k", decoded_text{"x", false, false});
  off.put_facts("k", facts_of(1, "x"));
  EXPECT_FALSE(off.text("k"));
  EXPECT_FALSE(off.facts("k"));
  EXPECT_EQ(off.bytes(), 0u);
}

TEST(message_cache, facts_share_the_entry_with_the_text_and_never_keep_flags) {
  message_cache cache{64 * 1024};
  cache.put_facts("m", facts_of(7, "Hello"));
  EXPECT_FALSE(cache.text("m")); // facts alone are not a text hit
  auto f = cache.facts("m");
  ASSERT_TRUE(f);
  EXPECT_EQ(f->summary.uid, 7u);
  EXPECT_EQ(f->summary.subject, "Hello");
  EXPECT_EQ(f->references.size(), 1u);
  EXPECT_TRUE(f->summary.flags.empty())
    << "flags change: they are never cached";
  auto with_facts = cache.bytes();
  cache.put_text("m", decoded_text{std::string(1000, 't'), false, false});
  EXPECT_GE(cache.bytes(), with_facts + 1000);
  ASSERT_TRUE(cache.facts("m")) << "adding the text keeps the facts";
  EXPECT_EQ(cache.text("m")->text.size(), 1000u);
  // Replacing the facts does not count the entry twice.
  auto before = cache.bytes();
  cache.put_facts("m", facts_of(7, "Hello"));
  EXPECT_EQ(cache.bytes(), before);
}

TEST(message_cache, eviction_keeps_the_bound_with_facts_and_texts) {
  message_cache cache{16 * 1024};
  for (uint32_t i = 0; i < 500; ++i) {
    auto key = message_cache::key("acct", "INBOX", 1, i);
    cache.put_facts(key, facts_of(i, std::string(100, 's')));
    if (i % 2 == 0)
      cache.put_text(key, decoded_text{std::string(300, 'x'), false, false});
    ASSERT_LE(cache.bytes(), 16u * 1024u);
  }
  EXPECT_TRUE(cache.facts(message_cache::key("acct", "INBOX", 1, 499)));
  EXPECT_FALSE(cache.facts(message_cache::key("acct", "INBOX", 1, 0)));
}
