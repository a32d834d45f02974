// SPDX-License-Identifier: Apache-2.0
// Download links seal what they name: they open only under their own key
// and only unchanged.
#include "postern/http/file_links.hpp"

#include <gtest/gtest.h>

using postern::secret;
using postern::http::file_link;
using postern::http::file_links;

namespace {

file_link sample() {
  file_link l;
  l.user.value = "u1";
  l.grant.value = "g1";
  l.account.value = "a1";
  l.folder = "Archive/2026 Grüße";
  l.uid = 4294967295u;
  l.part_id = "1.2";
  l.expires_at = 1800000000;
  return l;
}

} // namespace

TEST(file_links, a_sealed_link_opens_to_what_it_names) {
  file_links keys{secret{"0123456789abcdef0123456789abcdef-a-passphrase"}};
  auto opaque = keys.seal(sample());
  ASSERT_FALSE(opaque.empty());
  EXPECT_EQ(opaque.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklm"
                                     "nopqrstuvwxyz0123456789-_"),
            std::string::npos);
  // Nothing it names is readable in the URL.
  EXPECT_EQ(opaque.find("Archive"), std::string::npos);
  auto got = keys.open(opaque);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->user.value, "u1");
  EXPECT_EQ(got->grant.value, "g1");
  EXPECT_EQ(got->account.value, "a1");
  EXPECT_EQ(got->folder, "Archive/2026 Grüße");
  EXPECT_EQ(got->uid, 4294967295u);
  EXPECT_EQ(got->part_id, "1.2");
  EXPECT_EQ(got->expires_at, 1800000000);
  // Two links to the same part differ (random nonce).
  EXPECT_NE(keys.seal(sample()), opaque);
}

TEST(file_links, the_access_log_never_shows_a_link) {
  using postern::http::loggable_path;
  file_links keys{secret{"0123456789abcdef0123456789abcdef-a-passphrase"}};
  auto opaque = keys.seal(sample());
  auto shown = loggable_path("/files/" + opaque);
  EXPECT_EQ(shown.find(opaque), std::string::npos);
  EXPECT_EQ(shown.rfind("/files/", 0), 0u);
  EXPECT_EQ(loggable_path("/mcp"), "/mcp");
  EXPECT_EQ(loggable_path("/files/"), "/files/");
  EXPECT_EQ(loggable_path("/outbox/abc"), "/outbox/abc");
}

TEST(file_links, changed_foreign_or_malformed_links_do_not_open) {
  file_links keys{secret{"0123456789abcdef0123456789abcdef-a-passphrase"}};
  file_links other{secret{"another-secret-of-at-least-32-characters!"}};
  auto opaque = keys.seal(sample());
  EXPECT_FALSE(other.open(opaque));
  EXPECT_FALSE(file_links{}.open(opaque));
  for (size_t i = 0; i < opaque.size(); i += 7) {
    auto changed = opaque;
    changed[i] = changed[i] == 'A' ? 'B' : 'A';
    EXPECT_FALSE(keys.open(changed)) << i;
  }
  EXPECT_FALSE(keys.open(opaque.substr(0, opaque.size() - 1)));
  EXPECT_FALSE(keys.open(""));
  EXPECT_FALSE(keys.open("not+base64url/"));
  EXPECT_FALSE(keys.open(std::string(5000, 'A')));
}
