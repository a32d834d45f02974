// SPDX-License-Identifier: Apache-2.0
// The hand-written JSON writer against RapidJSON's own writer, which it
// replaced on the mail path (issue 18): the same bytes for the same calls,
// and every ill-formed UTF-8 byte as U+FFFD. Also the word-at-a-time UTF-8
// scans against byte-at-a-time references, at every alignment.
#include "postern/mcp/json.hpp"
#include "postern/utf8.hpp"

#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <random>
#include <string>
#include <vector>

using namespace postern::mcp;

namespace {

/// What RapidJSON writes for the string `s` once it is made valid UTF-8.
std::string rapidjson_string(std::string_view s) {
  auto valid = to_valid_utf8(s);
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w{buf};
  w.String(valid.data(), static_cast<rapidjson::SizeType>(valid.size()));
  return {buf.GetString(), buf.GetSize()};
}

std::string ours(std::string_view s) {
  json_writer w;
  w.string(s);
  return w.take();
}

/// Random bytes drawn mostly from the characters that need care.
std::string random_bytes(std::mt19937& rng, size_t n) {
  static const std::string_view pieces[] = {
    "a", "Z", " ", "/", "\"", "\\", "\n", "\r", "\t", "\b", "\f",
    std::string_view{"\0", 1}, "\x01", "\x1F", "\x7F", "\xC3\xA9",
    "\xE2\x82\xAC", "\xF0\x9F\x8E\x89", "\xC0\x80", "\xED\xA0\x80", "\xE2\x82",
    "\xFF", "\x80", "\xF4\x90\x80\x80", "plain ascii text "};
  std::uniform_int_distribution<size_t> pick{0, std::size(pieces) - 1};
  std::string s;
  while (s.size() < n)
    s += pieces[pick(rng)];
  return s;
}

size_t reference_code_points(std::string_view s) {
  size_t n = 0;
  for (auto c : s)
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80)
      ++n;
  return n;
}

bool reference_valid(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    auto n = postern::utf8_sequence_length(s, i);
    if (n == 0)
      return false;
    i += n;
  }
  return true;
}

} // namespace

TEST(json_writer, strings_match_rapidjson_byte_for_byte) {
  std::mt19937 rng{18};
  for (int round = 0; round < 3000; ++round) {
    auto s = random_bytes(rng, static_cast<size_t>(round % 97));
    ASSERT_EQ(ours(s), rapidjson_string(s)) << "round " << round;
  }
  for (int c = 0; c < 256; ++c) {
    std::string s(1, static_cast<char>(c));
    ASSERT_EQ(ours(s), rapidjson_string(s)) << "byte " << c;
  }
}

TEST(json_writer, output_is_valid_json_and_valid_utf8) {
  std::mt19937 rng{7};
  for (int round = 0; round < 500; ++round) {
    auto s = random_bytes(rng, 200);
    auto json = ours(s);
    EXPECT_TRUE(postern::is_valid_utf8(json));
    rapidjson::Document d;
    d.Parse(json.c_str(), json.size());
    ASSERT_FALSE(d.HasParseError()) << json;
    EXPECT_EQ(string_of(d), to_valid_utf8(s));
  }
}

TEST(json_writer, json_text_writes_what_string_writes_for_writer_output) {
  // The text mirror of a tool result: the writer's own output, escaped
  // again. json_text must give the bytes string() gives, for documents
  // with every kind of string in them, at every length and alignment.
  std::mt19937 rng{28};
  for (int round = 0; round < 2000; ++round) {
    json_writer doc;
    doc.begin_object()
      .key("subject")
      .string(random_bytes(rng, static_cast<size_t>(round % 61)))
      .key("flags")
      .begin_array()
      .string("\\Seen")
      .end_array()
      .key("uid")
      .uinteger(static_cast<uint64_t>(round))
      .end_object();
    auto inner = doc.take();
    json_writer a;
    a.begin_array().json_text(inner).json_text("").end_array();
    json_writer b;
    b.begin_array().string(inner).string("").end_array();
    ASSERT_EQ(a.take(), b.take()) << "round " << round;
  }
  // Text that breaks the promise (a raw control character) falls back to
  // string(), so the result is still valid JSON.
  json_writer w;
  w.begin_array().json_text("a\nb\"\x01").end_array();
  EXPECT_EQ(w.take(), "[\"a\\nb\\\"\\u0001\"]");
}

TEST(json_writer, structure_and_numbers_match_rapidjson) {
  json_writer w;
  w.begin_object()
    .key("a")
    .begin_array()
    .integer(-9223372036854775807LL - 1)
    .uinteger(18446744073709551615ULL)
    .boolean(true)
    .boolean(false)
    .null()
    .begin_object()
    .end_object()
    .begin_array()
    .end_array()
    .raw(R"({"x":1})")
    .string("")
    .end_array()
    .key("b")
    .string_or_null("")
    .key("k\x01\xFF")
    .integer(0)
    .end_object();
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> r{buf};
  r.StartObject();
  r.Key("a");
  r.StartArray();
  r.Int64(-9223372036854775807LL - 1);
  r.Uint64(18446744073709551615ULL);
  r.Bool(true);
  r.Bool(false);
  r.Null();
  r.StartObject();
  r.EndObject();
  r.StartArray();
  r.EndArray();
  r.RawValue(R"({"x":1})", 7, rapidjson::kObjectType);
  r.String("");
  r.EndArray();
  r.Key("b");
  r.Null();
  r.Key("k\x01\xEF\xBF\xBD");
  r.Int64(0);
  r.EndObject();
  EXPECT_EQ(w.str(), std::string(buf.GetString(), buf.GetSize()));
}

TEST(json_writer, copies_parsed_values_as_rapidjson_writes_them) {
  const char* docs[] = {
    R"({"a":[1,-2,3.5,1e300,-0.0,0.1,true,false,null,{"b":"c\n\u00e9"}],"d":{}})",
    R"([18446744073709551615,-9223372036854775808,[],[[]],"\"\\/"])",
    R"("just a string")",
    R"(12.25)",
  };
  for (auto* text : docs) {
    rapidjson::Document d;
    d.Parse(text);
    ASSERT_FALSE(d.HasParseError()) << text;
    rapidjson::StringBuffer buf;
    rapidjson::Writer<rapidjson::StringBuffer> r{buf};
    d.Accept(r);
    json_writer w;
    w.begin_array().value(d).value(d).end_array();
    auto expected = "[" + std::string(buf.GetString(), buf.GetSize()) + ","
                    + std::string(buf.GetString(), buf.GetSize()) + "]";
    EXPECT_EQ(w.str(), expected) << text;
  }
}

TEST(json_writer, take_moves_the_text_out) {
  json_writer w;
  w.begin_object().key("x").integer(1).end_object();
  EXPECT_EQ(w.take(), R"({"x":1})");
}

TEST(utf8_scans, word_at_a_time_agrees_with_the_byte_references) {
  std::mt19937 rng{150};
  for (int round = 0; round < 3000; ++round) {
    auto s = random_bytes(rng, static_cast<size_t>(round % 61));
    // Every alignment and every length of the tail.
    for (size_t skip = 0; skip < 9 && skip <= s.size(); ++skip) {
      std::string_view v{s};
      v.remove_prefix(skip);
      ASSERT_EQ(postern::count_code_points(v), reference_code_points(v));
      ASSERT_EQ(postern::is_valid_utf8(v), reference_valid(v));
    }
  }
  std::string ascii(1000, 'a');
  EXPECT_TRUE(postern::is_valid_utf8(ascii));
  ascii[999] = '\xC3';
  EXPECT_FALSE(postern::is_valid_utf8(ascii));
  EXPECT_EQ(postern::count_code_points(ascii), 1000u);
}
