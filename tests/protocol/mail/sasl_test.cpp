// SPDX-License-Identifier: Apache-2.0
// The OAuth SASL messages IMAP and SMTP send (XOAUTH2 and OAUTHBEARER).
#include "postern/mime/transfer_encoding.hpp"
#include "postern/sasl.hpp"

#include <gtest/gtest.h>

using namespace postern;

TEST(sasl, xoauth2_initial_response) {
  auto r = sasl::initial_response(sasl_mechanism::xoauth2, "me@example.com",
                                  "imap.example.com", 993, secret{"tok"});
  EXPECT_EQ(mime::decode_base64(r.reveal()),
            "user=me@example.com\x01"
            "auth=Bearer tok\x01\x01");
  EXPECT_EQ(sasl::abort_response(sasl_mechanism::xoauth2), "");
}

TEST(sasl, oauthbearer_initial_response_follows_rfc_7628) {
  auto r = sasl::initial_response(sasl_mechanism::oauthbearer, "a,b=c@x.org",
                                  "imap.x.org", 143, secret{"tok"});
  // The GS2 header escapes "," and "=" in the authorization identity.
  EXPECT_EQ(mime::decode_base64(r.reveal()),
            "n,a=a=2Cb=3Dc@x.org,\x01host=imap.x.org\x01port=143\x01"
            "auth=Bearer tok\x01\x01");
  EXPECT_EQ(sasl::abort_response(sasl_mechanism::oauthbearer), "AQ==");
}

TEST(sasl, challenge_status_is_a_safe_word_or_nothing) {
  auto challenge = [](std::string json) { return mime::encode_base64(json); };
  EXPECT_EQ(sasl::challenge_status(challenge(
              R"({"status":"invalid_token","schemes":"bearer"})")),
            "invalid_token");
  EXPECT_EQ(sasl::challenge_status(challenge(R"({"status":"401"})")), "401");
  EXPECT_EQ(sasl::challenge_status(challenge(R"({"status":"a b<script>"})")),
            "");
  EXPECT_EQ(sasl::challenge_status(challenge("{}")), "");
  EXPECT_EQ(sasl::challenge_status("!!!not base64"), "");
  EXPECT_EQ(sasl::challenge_status(challenge(
              R"({"status":")" + std::string(100, 'a') + "\"}")).size(),
            0u);
}
