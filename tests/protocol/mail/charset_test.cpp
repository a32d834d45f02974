// SPDX-License-Identifier: Apache-2.0
#include "postern/mime/charset.hpp"

#include <gtest/gtest.h>

using namespace postern::mime;

namespace {

const std::string fffd = "\xEF\xBF\xBD";

} // namespace

TEST(charset, validates_utf8) {
  EXPECT_TRUE(is_valid_utf8(""));
  EXPECT_TRUE(is_valid_utf8("plain ascii"));
  EXPECT_TRUE(is_valid_utf8("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x8E\x89"));
  EXPECT_FALSE(is_valid_utf8("caf\xE9"));          // Latin-1
  EXPECT_FALSE(is_valid_utf8("\xC0\x80"));         // overlong NUL
  EXPECT_FALSE(is_valid_utf8("\xE0\x80\xAF"));     // overlong '/'
  EXPECT_FALSE(is_valid_utf8("\xED\xA0\x80"));     // surrogate U+D800
  EXPECT_FALSE(is_valid_utf8("\xF4\x90\x80\x80")); // above U+10FFFF
  EXPECT_FALSE(is_valid_utf8("\xE2\x82"));         // truncated
  EXPECT_FALSE(is_valid_utf8("\xFF"));
}

TEST(charset, replaces_invalid_utf8) {
  EXPECT_EQ(to_valid_utf8("caf\xE9"), "caf" + fffd);
  EXPECT_EQ(to_valid_utf8("a\xE2\x82"), "a" + fffd);
  EXPECT_EQ(to_valid_utf8("\xED\xA0\x80x"), fffd + "x");
  EXPECT_EQ(to_valid_utf8("ok \xF0\x9F\x8E\x89"), "ok \xF0\x9F\x8E\x89");
  EXPECT_EQ(to_valid_utf8(std::string("a\0b", 3)), std::string("a\0b", 3));
  EXPECT_TRUE(is_valid_utf8(to_valid_utf8("\xFF\xFE\xC3\x28\xA0\xA1")));
}

TEST(charset, converts_legacy_charsets) {
  EXPECT_EQ(to_utf8("Gr\xFC\xDF"
                    "e",
                    "ISO-8859-1"),
            "Grüße");
  EXPECT_EQ(to_utf8("Gr\xFC\xDF"
                    "e",
                    "latin1"),
            "Grüße");
  // Latin-1 is read as Windows-1252, which mail declaring Latin-1 uses.
  EXPECT_EQ(to_utf8("\x93q\x94 \x80", "iso-8859-1"), "“q” €");
  EXPECT_EQ(to_utf8("\x93q\x94 \x80", "windows-1252"), "“q” €");
  EXPECT_EQ(to_utf8("\x82\xB1\x82\xF1\x82\xC9\x82\xBF\x82\xCD", "Shift_JIS"),
            "こんにちは");
  EXPECT_EQ(to_utf8("\x82\xB1\x82\xF1", "x-sjis"), "こん");
  EXPECT_EQ(to_utf8("\xC4\xE3\xBA\xC3", "GB2312"), "你好");
  EXPECT_EQ(to_utf8("\xF0\xD2\xC9\xD7\xC5\xD4", "koi8-r"), "Привет");
  EXPECT_EQ(to_utf8("\x1B$B$3$s$K$A$O\x1B(B", "ISO-2022-JP"), "こんにちは");
  EXPECT_EQ(to_utf8("Hi Mom -+Jjo--!", "utf-7"), "Hi Mom -☺-!");
  EXPECT_EQ(to_utf8("  quoted  ", "\"us-ascii\""), "  quoted  ");
}

TEST(charset, replaces_bytes_that_do_not_decode) {
  // A broken Shift_JIS sequence in the middle and a truncated one at the end.
  EXPECT_EQ(to_utf8("\x82\xB1\xFF\x82\xF1", "shift_jis"), "こ" + fffd + "ん");
  EXPECT_EQ(to_utf8("\x82\xB1\x82", "shift_jis"), "こ" + fffd);
  // Declared UTF-8 is checked, not trusted.
  EXPECT_EQ(to_utf8("caf\xE9", "utf-8"), "caf" + fffd);
  // ISO-2022-JP with a bad byte inside the shifted run.
  auto jis = to_utf8("\x1B$B$3\xFF$s\x1B(B!", "iso-2022-jp");
  EXPECT_TRUE(is_valid_utf8(jis));
  EXPECT_NE(jis.find(fffd), std::string::npos);
  EXPECT_EQ(jis.back(), '!');
}

TEST(charset, guesses_undeclared_and_unknown_charsets) {
  EXPECT_EQ(to_utf8("caf\xC3\xA9", ""), "café");
  EXPECT_EQ(to_utf8("caf\xE9", ""), "café");
  EXPECT_EQ(to_utf8("caf\xE9", "us-ascii"), "café");
  EXPECT_EQ(to_utf8("caf\xC3\xA9", "x-no-such-charset"), "café");
  EXPECT_EQ(to_utf8("caf\xE9", "x-no-such-charset"), "café");
  EXPECT_TRUE(is_known_charset("koi8-r"));
  EXPECT_TRUE(is_known_charset("UTF-8"));
  EXPECT_FALSE(is_known_charset("x-no-such-charset"));
  EXPECT_FALSE(is_known_charset(""));
}

TEST(charset, windows_and_slices) {
  EXPECT_EQ(truncate_utf8("héllo", 2), "h");
  EXPECT_EQ(truncate_utf8("héllo", 3), "hé");
  EXPECT_EQ(truncate_utf8("abc", 10), "abc");
  EXPECT_EQ(count_code_points("日本語 ok"), 6u);
  EXPECT_EQ(slice_code_points("日本語 ok", 1, 2), "本語");
  EXPECT_EQ(slice_code_points("日本語 ok", 4, 100), "ok");
  EXPECT_EQ(slice_code_points("日本語", 5, 1), "");
}
