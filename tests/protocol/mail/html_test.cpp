// SPDX-License-Identifier: Apache-2.0
#include "postern/mime/charset.hpp"
#include "postern/mime/html.hpp"

#include <gtest/gtest.h>

using namespace postern::mime;

TEST(html_to_text, keeps_text_and_drops_markup) {
  EXPECT_EQ(html_to_text("<p>Hello <b>world</b></p>"), "Hello world");
  EXPECT_EQ(html_to_text(
              "<html><head><title>T</title><style>p{color:red}</style>"
              "</head><body><p>Body</p><script>alert(1)</script>"
              "</body></html>"),
            "Body");
  EXPECT_EQ(html_to_text("a<!-- comment -->b"), "ab");
  EXPECT_EQ(html_to_text("<!DOCTYPE html><p>x</p>"), "x");
  EXPECT_EQ(html_to_text("1 < 2 and 3 > 2"), "1 < 2 and 3 > 2");
}

TEST(html_to_text, makes_blocks_lines_and_collapses_space) {
  EXPECT_EQ(html_to_text("<p>one</p><p>two</p>"), "one\n\ntwo");
  EXPECT_EQ(html_to_text("<div>one</div><div>two</div>"), "one\ntwo");
  EXPECT_EQ(html_to_text("line<br>break<br/><br>blank"),
            "line\nbreak\n\nblank");
  EXPECT_EQ(html_to_text("  lots   of\n\n  space  "), "lots of space");
  EXPECT_EQ(html_to_text("<h1>Title</h1>text"), "Title\n\ntext");
  EXPECT_EQ(html_to_text("<pre>  keep\n    this</pre>"), "  keep\n    this");
  EXPECT_EQ(
    html_to_text(
      "<table><tr><td>1</td><td>2</td></tr><tr><td>3</td></tr></table>"),
    "1 2\n3");
  EXPECT_EQ(html_to_text("a<hr>b"), "a\n----------\nb");
}

TEST(html_to_text, lists) {
  EXPECT_EQ(html_to_text("<ul><li>one</li><li>two</li></ul>"), "- one\n- two");
  EXPECT_EQ(html_to_text("<ol><li>one<li>two</ol>"), "1. one\n2. two");
  EXPECT_EQ(html_to_text("<ul><li>a<ul><li>b</li></ul></li></ul>"),
            "- a\n  - b");
}

TEST(html_to_text, keeps_links) {
  EXPECT_EQ(
    html_to_text("<a href=\"https://example.com/x?a=1&amp;b=2\">the docs</a>"),
    "the docs (https://example.com/x?a=1&b=2)");
  // No repetition when the text already is the URL, nor for anchors.
  EXPECT_EQ(
    html_to_text("<a href='https://example.com'>https://example.com</a>"),
    "https://example.com");
  EXPECT_EQ(html_to_text("<a href=\"mailto:a@x.org\">a@x.org</a>"), "a@x.org");
  EXPECT_EQ(html_to_text("<a href=\"#top\">Top</a>"), "Top");
  EXPECT_EQ(html_to_text("<a href=\"javascript:void(0)\">Click</a>"), "Click");
  EXPECT_EQ(html_to_text("<a href=https://x.org/a>bare</a>"),
            "bare (https://x.org/a)");
  EXPECT_EQ(html_to_text("<a href=\"https://x.org/i\"><img src=x.png></a>"),
            "https://x.org/i");
  EXPECT_EQ(html_to_text("<img src=\"logo.png\" alt=\"Logo\"> text"),
            "[Logo] text");
  EXPECT_EQ(html_to_text("<img src=\"pixel.gif\" alt=\"\">text"), "text");
}

TEST(html_to_text, decodes_character_references) {
  EXPECT_EQ(html_to_text(
              "Caf&eacute; &amp; cr&egrave;me &lt;3&gt; &quot;x&quot; &apos;"),
            "Café & crème <3> \"x\" '");
  EXPECT_EQ(html_to_text("&#8364;&#x20AC; &euro; &hellip; &mdash; &copy;"),
            "€€ € … — ©");
  EXPECT_EQ(html_to_text("&#150;"), "–"); // C1 range means Windows-1252
  EXPECT_EQ(html_to_text("a&nbsp;b"), "a b");
  EXPECT_EQ(html_to_text("&unknown; &amp"), "&unknown; &amp");
  EXPECT_EQ(html_to_text("&#0; &#xD800; &#99999999;"),
            "\xEF\xBF\xBD \xEF\xBF\xBD \xEF\xBF\xBD");
  // Invisible preheader padding disappears.
  EXPECT_EQ(html_to_text("Hi&zwnj;&#8203;\xE2\x80\x8B!"), "Hi!");
}

TEST(html_to_text, survives_broken_html) {
  for (auto bad :
       {"<", "<a", "<a href=\"unterminated", "</p></div></a>", "<<<>>>",
        "<script>never closed", "<!-- open comment", "<p attr='x>y", "&#",
        "&#x;", "<ul><li></ol></li>", "\xFF\xFE<p>\xC3</p>"}) {
    auto text = html_to_text(bad);
    EXPECT_TRUE(is_valid_utf8(text)) << bad;
  }
  EXPECT_EQ(html_to_text("</a>text"), "text");
}

TEST(html_to_text, sniffs_meta_charset) {
  EXPECT_EQ(sniff_html_charset("<html><head><meta charset=\"windows-1251\">"),
            "windows-1251");
  EXPECT_EQ(sniff_html_charset("<META http-equiv=Content-Type "
                               "content=\"text/html; charset=ISO-8859-2\">"),
            "iso-8859-2");
  EXPECT_EQ(sniff_html_charset("<p>no meta</p>"), "");
}
