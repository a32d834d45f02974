// SPDX-License-Identifier: Apache-2.0
#include "postern/mcp/bounded_parse.hpp"
#include "postern/mcp/json.hpp"
#include "postern/mcp/jsonrpc.hpp"
#include "postern/mcp/tools.hpp"

#include <gtest/gtest.h>
#include <rapidjson/document.h>

using namespace postern::mcp;

namespace {

decode_error error_of(std::string_view body) {
  auto r = decode(body);
  EXPECT_FALSE(r.msg) << body;
  return r.error;
}

rapidjson::Document parse(const std::string& json) {
  rapidjson::Document d;
  d.Parse(json.c_str());
  EXPECT_FALSE(d.HasParseError()) << json;
  return d;
}

} // namespace

TEST(mcp_jsonrpc, decodes_requests_notifications_and_responses) {
  auto r = decode(
    R"({"jsonrpc":"2.0","id":7,"method":"tools/list","params":{"cursor":"x"}})");
  ASSERT_TRUE(r.msg);
  EXPECT_EQ(r.msg->kind, message_kind::request);
  EXPECT_EQ(r.msg->id, "7");
  EXPECT_EQ(r.msg->method, "tools/list");
  ASSERT_NE(r.msg->params, nullptr);
  EXPECT_TRUE(r.msg->params->IsObject());
  r = decode(R"({"jsonrpc":"2.0","id":"a\"b","method":"ping"})");
  ASSERT_TRUE(r.msg);
  EXPECT_EQ(r.msg->id, R"("a\"b")");
  EXPECT_EQ(r.msg->params, nullptr);
  r = decode(R"({"jsonrpc":"2.0","method":"notifications/initialized"})");
  ASSERT_TRUE(r.msg);
  EXPECT_EQ(r.msg->kind, message_kind::notification);
  r = decode(R"({"jsonrpc":"2.0","id":3,"result":{}})");
  ASSERT_TRUE(r.msg);
  EXPECT_EQ(r.msg->kind, message_kind::response);
  r = decode(R"({"jsonrpc":"2.0","id":3,"error":{"code":1,"message":"x"}})");
  ASSERT_TRUE(r.msg);
  EXPECT_EQ(r.msg->kind, message_kind::response);
  // Big ids survive unchanged.
  r = decode(R"({"jsonrpc":"2.0","id":18446744073709551615,"method":"ping"})");
  ASSERT_TRUE(r.msg);
  EXPECT_EQ(r.msg->id, "18446744073709551615");
}

TEST(mcp_jsonrpc, meta_is_found_in_params) {
  auto r = decode(
    R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"_meta":{"progressToken":1}}})");
  ASSERT_TRUE(r.msg);
  ASSERT_NE(r.msg->meta(), nullptr);
  EXPECT_TRUE(r.msg->meta()->HasMember("progressToken"));
}

TEST(mcp_jsonrpc, malformed_json_is_a_parse_error) {
  for (auto body : {"", "{", "{\"jsonrpc\":\"2.0\",}", "nul", "{} {}",
                    "{\"a\":\"\xC3\x28\"}"}) {
    auto e = error_of(body);
    EXPECT_EQ(e.code, rpc::parse_error) << body;
    EXPECT_EQ(e.id, "null");
    EXPECT_NE(e.message.find("Parse error"), std::string::npos);
  }
}

TEST(mcp_jsonrpc, unpaired_surrogate_escapes_are_a_parse_error) {
  // A lone low surrogate decodes to bytes that are not UTF-8; in an id it
  // would come back in the answer (found by tests/fuzz jsonrpc).
  for (auto body :
       {R"({"jsonrpc":"2.0","id":"\uDC00","method":"ping"})",
        R"({"jsonrpc":"2.0","id":1,"method":"ping","params":{"x":["\uDFFF"]}})",
        R"({"jsonrpc":"2.0","id":1,"method":"ping","params":{"\uDD00":1}})"}) {
    auto e = error_of(body);
    EXPECT_EQ(e.code, rpc::parse_error) << body;
    EXPECT_NE(e.message.find("surrogate"), std::string::npos);
  }
  // A proper pair (U+1F600) and an escaped backslash before "uDC00" are fine.
  EXPECT_TRUE(
    decode(R"({"jsonrpc":"2.0","id":"\uD83D\uDE00","method":"ping"})").msg);
  EXPECT_TRUE(
    decode(R"({"jsonrpc":"2.0","id":"\\uDC00","method":"ping"})").msg);
  rapidjson::Document doc;
  EXPECT_FALSE(parse_bounded(doc, R"({"client_name":"\uDC00"})"));
  EXPECT_TRUE(parse_bounded(doc, R"({"client_name":"\u00e9"})"));
}

TEST(mcp_jsonrpc, deep_nesting_is_refused_without_recursion) {
  std::string deep(100000, '[');
  auto e = error_of(deep);
  EXPECT_EQ(e.code, rpc::parse_error);
  EXPECT_NE(e.message.find("nested"), std::string::npos);
  // Brackets inside strings do not count.
  std::string in_string
    = R"({"jsonrpc":"2.0","id":1,"method":"ping","params":{"x":")"
      + std::string(1000, '[') + R"("}})";
  EXPECT_TRUE(decode(in_string).msg);
}

TEST(mcp_jsonrpc, batches_are_refused_with_a_clear_sentence) {
  auto e = error_of(R"([{"jsonrpc":"2.0","id":1,"method":"ping"}])");
  EXPECT_EQ(e.code, rpc::invalid_request);
  EXPECT_NE(e.message.find("2025-06-18"), std::string::npos);
}

TEST(mcp_jsonrpc, invalid_requests_keep_their_id) {
  auto e = error_of(R"({"jsonrpc":"1.0","id":5,"method":"ping"})");
  EXPECT_EQ(e.code, rpc::invalid_request);
  EXPECT_EQ(e.id, "5");
  e = error_of(R"({"jsonrpc":"2.0","id":"q","method":3})");
  EXPECT_EQ(e.code, rpc::invalid_request);
  EXPECT_EQ(e.id, R"("q")");
  e = error_of(R"({"jsonrpc":"2.0","id":null,"method":"ping"})");
  EXPECT_EQ(e.code, rpc::invalid_request);
  e = error_of(R"({"jsonrpc":"2.0","id":1.5,"method":"ping"})");
  EXPECT_EQ(e.code, rpc::invalid_request);
  e = error_of(R"({"jsonrpc":"2.0","id":1})");
  EXPECT_EQ(e.code, rpc::invalid_request);
  e = error_of(R"("just a string")");
  EXPECT_EQ(e.code, rpc::invalid_request);
}

TEST(mcp_jsonrpc, responses_are_valid_json) {
  auto ok = parse(make_result("1", R"({"a":[]})"));
  EXPECT_TRUE(ok["result"]["a"].IsArray());
  EXPECT_STREQ(ok["jsonrpc"].GetString(), "2.0");
  auto err = parse(make_error(R"("x")", rpc::method_not_found,
                              "Method not found: \xFF", R"({"k":1})"));
  EXPECT_EQ(err["error"]["code"].GetInt(), rpc::method_not_found);
  EXPECT_STREQ(err["id"].GetString(), "x");
  EXPECT_STREQ(err["error"]["message"].GetString(),
               "Method not found: \xEF\xBF\xBD");
  EXPECT_EQ(err["error"]["data"]["k"].GetInt(), 1);
  auto null_id = parse(make_error("null", rpc::parse_error, "bad"));
  EXPECT_TRUE(null_id["id"].IsNull());
}

TEST(mcp_json, utf8_is_validated_and_repaired) {
  EXPECT_TRUE(is_valid_utf8("plain"));
  EXPECT_TRUE(is_valid_utf8("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80"));
  EXPECT_FALSE(is_valid_utf8("caf\xE9"));          // Latin-1
  EXPECT_FALSE(is_valid_utf8("\xC0\xAF"));         // overlong
  EXPECT_FALSE(is_valid_utf8("\xED\xA0\x80"));     // surrogate
  EXPECT_FALSE(is_valid_utf8("\xF4\x90\x80\x80")); // above U+10FFFF
  EXPECT_FALSE(is_valid_utf8("\xE2\x82"));         // truncated at the end
  EXPECT_EQ(to_valid_utf8("caf\xE9"), "caf\xEF\xBF\xBD");
  EXPECT_EQ(to_valid_utf8("\xE2\x82"), "\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(count_code_points("caf\xC3\xA9\xF0\x9F\x98\x80"), 5u);
  EXPECT_EQ(prefix_code_points("caf\xC3\xA9x", 4), "caf\xC3\xA9");
  EXPECT_EQ(prefix_code_points("abc", 10), "abc");
  EXPECT_EQ(prefix_code_points("abc", 0), "");
  // The writer never emits ill-formed UTF-8, whatever it is given.
  json_writer w;
  w.begin_object().key("k\xFF").string("v\xE2\x82").end_object();
  EXPECT_TRUE(is_valid_utf8(w.str()));
  auto d = parse(w.str());
  EXPECT_TRUE(d.IsObject());
}

TEST(mcp_jsonrpc, survives_mutated_and_random_input) {
  // A cheap deterministic fuzz loop (ASan/UBSan watch it in CI): mutations
  // of valid messages and random bytes must decode or fail cleanly, and
  // whatever decodes must go through tool argument checks without harm.
  const std::string seeds[] = {
    R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"read_message","arguments":{"uids":[1,2],"offset":3}}})",
    R"({"jsonrpc":"2.0","id":"x","method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"n","version":"1"}}})",
    R"({"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":1}})",
  };
  const char alphabet[] = "{}[]\":,0123456789.-+eEtrufalsn\\u \xC3\xA9\xFF\x00";
  uint32_t state = 12345;
  auto next = [&] {
    state = state * 1103515245u + 12345u;
    return (state >> 16) & 0x7FFF;
  };
  for (int round = 0; round < 3000; ++round) {
    std::string input;
    if (round % 5 == 0) {
      auto len = next() % 200;
      for (size_t i = 0; i < len; ++i)
        input += alphabet[next() % (sizeof(alphabet) - 1)];
    } else {
      input = seeds[next() % 3];
      auto edits = 1 + next() % 4;
      for (size_t e = 0; e < edits && !input.empty(); ++e) {
        auto pos = next() % input.size();
        switch (next() % 3) {
          case 0:
            input.erase(pos, 1 + next() % 3);
            break;
          case 1:
            input.insert(pos, 1, alphabet[next() % (sizeof(alphabet) - 1)]);
            break;
          default:
            input[pos] = alphabet[next() % (sizeof(alphabet) - 1)];
        }
      }
    }
    auto r = decode(input);
    if (!r.msg) {
      EXPECT_NE(r.error.code, 0);
      EXPECT_TRUE(
        is_valid_utf8(make_error(r.error.id, r.error.code, r.error.message)));
      continue;
    }
    EXPECT_TRUE(is_valid_utf8(r.msg->id));
    if (auto p = r.msg->params; p && p->IsObject()) {
      auto args = p->FindMember("arguments");
      for (auto& tool : tool_catalogue())
        parse_arguments(tool, args == p->MemberEnd() ? nullptr : &args->value);
    }
  }
}

TEST(make_result, leading_fields_come_first_in_an_object_result) {
  using postern::mcp::make_result;
  EXPECT_EQ(
    make_result("7", R"({"a":1})", R"("resultType":"complete")"),
    R"({"jsonrpc":"2.0","id":7,"result":{"resultType":"complete","a":1}})");
  EXPECT_EQ(make_result("7", "{}", R"("resultType":"complete")"),
            R"({"jsonrpc":"2.0","id":7,"result":{"resultType":"complete"}})");
  // Without fields, or with a result that is not an object: as it is.
  EXPECT_EQ(make_result("\"x\"", R"({"a":1})"),
            R"({"jsonrpc":"2.0","id":"x","result":{"a":1}})");
  EXPECT_EQ(make_result("7", "[]", R"("k":1)"),
            R"({"jsonrpc":"2.0","id":7,"result":[]})");
}
