// SPDX-License-Identifier: Apache-2.0
#include "mcp_tools_support.hpp"
#include "postern/error.hpp"
#include "postern/mcp/json.hpp"
#include "postern/mcp/schema.hpp"
#include "postern/mcp/tools.hpp"

#include <gtest/gtest.h>
#include <rapidjson/document.h>

using namespace postern;
using namespace postern::mcp;
using namespace postern::mcp::test;

TEST(mcp_tools, catalogue_keeps_the_original_names_and_scopes) {
  std::vector<std::string> names;
  for (auto& t : tool_catalogue()) {
    names.emplace_back(t.name);
    EXPECT_FALSE(t.title.empty());
    // Every schema is valid JSON describing an object.
    auto in = parse(t.input_schema);
    auto out = parse(t.output_schema);
    EXPECT_STREQ(in["type"].GetString(), "object");
    EXPECT_STREQ(out["type"].GetString(), "object");
  }
  EXPECT_EQ(names,
            (std::vector<std::string>{
              "list_folders", "list_messages", "read_message",
              "search_messages", "move_message", "flag_message", "send_mail",
              "get_thread", "create_folder", "rename_folder", "delete_folder",
              "delete_message", "copy_message", "get_attachment",
              "reply_message", "forward_message", "save_draft",
              "get_send_status", "list_accounts"}));
  for (auto& t : tool_catalogue())
    EXPECT_EQ(t.about_accounts, t.name == "list_accounts") << t.name;
  EXPECT_EQ(find_tool("send_mail")->required, scope::send);
  EXPECT_EQ(find_tool("get_attachment")->required, scope::read);
  EXPECT_EQ(find_tool("reply_message")->required, scope::send);
  EXPECT_EQ(find_tool("forward_message")->required, scope::send);
  EXPECT_EQ(find_tool("save_draft")->required, scope::draft);
  EXPECT_TRUE(find_tool("get_attachment")->hints.read_only);
  EXPECT_FALSE(find_tool("save_draft")->hints.open_world);
  EXPECT_TRUE(find_tool("reply_message")->hints.open_world);
  EXPECT_EQ(find_tool("flag_message")->required, scope::modify);
  EXPECT_TRUE(find_tool("read_message")->hints.read_only);
  EXPECT_FALSE(find_tool("send_mail")->hints.read_only);
  EXPECT_TRUE(find_tool("send_mail")->hints.open_world);
  EXPECT_TRUE(find_tool("move_message")->hints.destructive);
  EXPECT_EQ(find_tool("nope"), nullptr);
}

TEST(mcp_tools, tools_list_is_filtered_by_scope) {
  auto names = [](scope_set scopes) {
    auto doc = parse(tools_list_result(scopes));
    std::vector<std::string> result;
    for (auto& t : doc["tools"].GetArray()) {
      result.emplace_back(t["name"].GetString());
      EXPECT_TRUE(t["annotations"].HasMember("readOnlyHint"));
      EXPECT_TRUE(t["annotations"].HasMember("destructiveHint"));
      EXPECT_TRUE(t["annotations"].HasMember("idempotentHint"));
      EXPECT_TRUE(t["annotations"].HasMember("openWorldHint"));
      EXPECT_TRUE(t["inputSchema"].IsObject());
      EXPECT_TRUE(t["outputSchema"].IsObject());
    }
    return result;
  };
  // list_accounts comes with any scope.
  EXPECT_EQ(names(bit(scope::folders)),
            (std::vector<std::string>{"list_folders", "list_accounts"}));
  EXPECT_EQ(names(bit(scope::read) | bit(scope::send)),
            (std::vector<std::string>{
              "list_messages", "read_message", "send_mail", "get_thread",
              "get_attachment", "reply_message", "forward_message",
              "get_send_status", "list_accounts"}));
  EXPECT_EQ(names(every_scope).size(), 19u);
  // Drafting alone never shows a sending tool.
  EXPECT_EQ(names(bit(scope::draft)),
            (std::vector<std::string>{"save_draft", "list_accounts"}));
  EXPECT_TRUE(names(0).empty());
}

namespace {

/// A validated token of two accounts, "Work" (the default unless
/// `with_default` is false) and "Home".
access_grant two_accounts(bool with_default) {
  access_grant g;
  g.scopes = bit(scope::read) | bit(scope::send);
  g.grant.accounts.ids = {account_id{"w"}, account_id{"h"}};
  if (with_default)
    g.grant.accounts.preferred = account_id{"w"};
  g.accounts = {{account_id{"w"}, "Work", "alice@work.example", {"sales@work.example"}},
                {account_id{"h"}, "Home", "alice@home.example", {}}};
  return g;
}

} // namespace

TEST(mcp_tools, tools_list_offers_the_connections_accounts) {
  auto check = [](const access_grant& g, bool required) {
    auto menu = account_menu::of(g);
    EXPECT_EQ(menu.names,
              (std::vector<std::string>{"Work", "Home", "alice@work.example",
                                        "alice@home.example"}));
    EXPECT_EQ(menu.required, required);
    auto list = tools_list_result(g.scopes, menu);
    // The same menu is built once.
    EXPECT_EQ(list.get(), tools_list_result(g.scopes, menu).get());
    auto doc = parse(*list);
    size_t tools = 0;
    for (auto& t : doc["tools"].GetArray()) {
      ++tools;
      auto& in = t["inputSchema"];
      std::string name = t["name"].GetString();
      auto required_names = [&] {
        std::vector<std::string> r;
        if (in.HasMember("required"))
          for (auto& x : in["required"].GetArray())
            r.emplace_back(x.GetString());
        return r;
      }();
      bool names_required = std::find(required_names.begin(),
                                      required_names.end(), "account")
                            != required_names.end();
      if (name == "list_accounts") {
        EXPECT_FALSE(in["properties"].HasMember("account"));
        continue;
      }
      ASSERT_TRUE(in["properties"].HasMember("account")) << name;
      auto& account = in["properties"]["account"];
      EXPECT_STREQ(account["type"].GetString(), "string");
      EXPECT_EQ(account["enum"].Size(), 4u);
      EXPECT_EQ(names_required, required) << name;
      // The schema still checks the tool's own arguments.
      EXPECT_FALSE(in["additionalProperties"].GetBool()) << name;
    }
    EXPECT_EQ(tools, 9u);
  };
  check(two_accounts(true), false);
  check(two_accounts(false), true);
  // One account: offered, never required.
  auto one = two_accounts(false);
  one.grant.accounts.ids.resize(1);
  one.accounts.resize(1);
  auto menu = account_menu::of(one);
  EXPECT_EQ(menu.names,
            (std::vector<std::string>{"Work", "alice@work.example"}));
  EXPECT_FALSE(menu.required);
}

TEST(mcp_tools, the_account_argument_is_taken_out_before_the_schema) {
  auto t = find_tool("list_messages");
  auto with = parse(R"({"account":"Home","pageSize":5})");
  auto r = parse_arguments(*t, &with);
  ASSERT_TRUE(r.args) << r.error;
  EXPECT_EQ(r.account, "Home");
  EXPECT_EQ(std::get<list_messages_args>(*r.args).page.page_size, 5);
  // The rest is still checked: unknown members and bad values.
  auto unknown = parse(R"({"account":"Home","nope":1})");
  EXPECT_FALSE(parse_arguments(*t, &unknown).args);
  for (auto bad : {R"({"account":7})", R"({"account":""})",
                   R"({"account":null})"}) {
    auto doc = parse(bad);
    auto refused = parse_arguments(*t, &doc);
    EXPECT_FALSE(refused.args) << bad;
    EXPECT_NE(refused.error.find("account must be the label or the address"),
              std::string::npos)
      << refused.error;
  }
  auto long_name = parse("{\"account\":\"" + std::string(400, 'a') + "\"}");
  EXPECT_FALSE(parse_arguments(*t, &long_name).args);
  auto none = parse(R"({"pageSize":5})");
  EXPECT_TRUE(parse_arguments(*t, &none).account.empty());
  // list_accounts takes no account (nor anything else).
  auto la = find_tool("list_accounts");
  EXPECT_FALSE(parse_arguments(*la, &with).args);
  auto empty = parse("{}");
  EXPECT_TRUE(parse_arguments(*la, &empty).args);
}

TEST(mcp_tools, list_accounts_names_each_account_and_the_default) {
  auto doc = parse(encode_accounts(two_accounts(true)));
  auto& accounts = doc["accounts"];
  ASSERT_EQ(accounts.Size(), 2u);
  EXPECT_STREQ(accounts[0]["label"].GetString(), "Work");
  EXPECT_STREQ(accounts[0]["address"].GetString(), "alice@work.example");
  EXPECT_TRUE(accounts[0]["default"].GetBool());
  EXPECT_FALSE(accounts[1]["default"].GetBool());
  ASSERT_EQ(accounts[1]["permissions"].Size(), 2u);
  EXPECT_STREQ(accounts[1]["permissions"][0].GetString(), "mail:read");
  EXPECT_STREQ(accounts[1]["permissions"][1].GetString(), "mail:send");
  EXPECT_FALSE(doc["accountRequired"].GetBool());
  auto without = parse(encode_accounts(two_accounts(false)));
  EXPECT_TRUE(without["accountRequired"].GetBool());
  EXPECT_FALSE(without["accounts"][0]["default"].GetBool());
  // It matches its own output schema.
  auto schema = parse(find_tool("list_accounts")->output_schema);
  EXPECT_EQ(check_schema(schema, doc), "");
}

TEST(mcp_tools, defaults_match_the_original) {
  auto lm = args_of<list_messages_args>("list_messages", "{}");
  EXPECT_EQ(lm.folder, "INBOX");
  EXPECT_EQ(lm.page.page, 1);
  EXPECT_EQ(lm.page.page_size, 20);
  EXPECT_FALSE(lm.include_body);
  auto sm = args_of<search_messages_args>("search_messages", "{}");
  EXPECT_EQ(sm.folder, "INBOX");
  EXPECT_EQ(sm.query.limit, 20);
  auto fm = args_of<flag_message_args>("flag_message",
                                       R"({"uid":4,"seen":true})");
  EXPECT_EQ(fm.folder, "INBOX");
  EXPECT_EQ(fm.change.seen, imap::flag_action::add);
  EXPECT_EQ(fm.change.flagged, imap::flag_action::keep);
  // No arguments at all is the same as {}.
  auto t = find_tool("list_folders");
  auto r = parse_arguments(*t, nullptr);
  ASSERT_TRUE(r.args);
  // Integral floats count as integers (JSON Schema), as agents send them.
  auto paged = args_of<list_messages_args>("list_messages",
                                           R"({"page":2.0,"pageSize":5})");
  EXPECT_EQ(paged.page.page, 2);
  EXPECT_EQ(paged.page.page_size, 5);
}

TEST(mcp_tools, read_message_takes_uid_or_uids) {
  auto one = args_of<read_message_args>("read_message", R"({"uid":42})");
  EXPECT_EQ(one.uids, std::vector<uint32_t>{42});
  EXPECT_FALSE(one.several);
  EXPECT_EQ(one.window.max_length, 100000u);
  // uids without uid (the original insisted on uid); duplicates collapse.
  auto many = args_of<read_message_args>(
    "read_message", R"({"folder":"Archive","uids":[3,1,3,2]})");
  EXPECT_EQ(many.uids, (std::vector<uint32_t>{3, 1, 2}));
  EXPECT_TRUE(many.several);
  EXPECT_EQ(many.folder, "Archive");
  // Old agents send both: uids wins.
  auto both = args_of<read_message_args>("read_message",
                                         R"({"uid":9,"uids":[5]})");
  EXPECT_EQ(both.uids, std::vector<uint32_t>{5});
  auto windowed = args_of<read_message_args>(
    "read_message", R"({"uid":1,"offset":500,"maxLength":100})");
  EXPECT_EQ(windowed.window.offset, 500u);
  EXPECT_EQ(windowed.window.max_length, 100u);
  EXPECT_NE(error_of("read_message", "{}").find("`uid`"), std::string::npos);
  EXPECT_NE(error_of("read_message", R"({"uids":[1,2,3,4,5,6,7,8,9,10,11]})")
              .find("`uids` must have at most 10 items"),
            std::string::npos);
  EXPECT_NE(error_of("read_message", R"({"uids":[]})").find("at least 1"),
            std::string::npos);
  EXPECT_NE(error_of("read_message", R"({"uids":[1,"2"]})").find("`uids[1]`"),
            std::string::npos);
}

TEST(mcp_tools, arguments_are_checked_strictly) {
  struct case_t {
    const char* tool;
    const char* args;
    const char* expected;
  };
  case_t cases[] = {
    {"list_messages", R"({"pageSize":500})",
     "`pageSize` must be between 1 and 50 (got 500)"},
    {"list_messages", R"({"page":0})", "`page` must be between 1 and"},
    {"list_messages", R"({"page":-1})", "`page` must be between 1 and"},
    {"list_messages", R"({"page":1.5})", "`page` must be an integer (got 1.5)"},
    {"list_messages", R"({"page":"2"})",
     "`page` must be an integer (got \"2\")"},
    {"list_messages", R"({"folder":""})", "`folder` must not be empty"},
    {"list_messages", R"({"includeBody":"yes"})",
     "`includeBody` must be true or false"},
    {"list_messages", R"({"pagesize":5})",
     "unknown argument `pagesize`; the arguments are folder, page, pageSize"},
    {"list_folders", R"({"x":1})", "unknown argument `x`"},
    {"search_messages", R"({"limit":-1})", "`limit` must be between 1 and 50"},
    {"search_messages", R"({"since":"not-a-date"})",
     "`since` must be a real date written YYYY-MM-DD"},
    {"search_messages", R"({"before":"2026-02-30"})",
     "`before` must be a real date"},
    {"search_messages", R"({"since":"2026-03-01","before":"2026-01-01"})",
     "`since` (2026-03-01) must be before `before`"},
    {"move_message", R"({"uid":1,"destination":"Archive"})",
     "`folder` is required"},
    {"move_message", R"({"folder":"INBOX","uid":1,"destination":"INBOX"})",
     "already in"},
    {"move_message", R"({"folder":"INBOX","uid":0,"destination":"A"})",
     "`uid` must be between 1 and 4294967295 (got 0)"},
    {"flag_message", R"({"uid":1})", "give at least one of `seen`"},
    {"flag_message", R"({"seen":true})", "give `uid` (one message) or `uids`"},
    {"send_mail", R"({"to":"bob@example.test","subject":"s"})",
     "`body` is required"},
    {"send_mail", R"({"to":"not an address","subject":"s","body":"b"})",
     "`to`: "},
    {"send_mail", R"({"to":" , ","subject":"s","body":"b"})",
     "`to` must name at least one recipient"},
    {"send_mail",
     R"({"to":"bob@example.test","subject":"s","body":"b","inReplyTo":"no id"})",
     "`inReplyTo` must be a Message-ID"},
    {"send_mail",
     R"({"to":"bob@example.test","subject":"s","body":"b","attachment":[]})",
     "unknown argument `attachment`"},
    {"send_mail",
     R"({"to":"b@example.test","subject":"s","body":"b","attachments":[{"filename":"a/b","contentType":"text/plain","content":""}]})",
     "`attachments[0].filename` \"a/b\" must be a plain file name"},
    {"send_mail",
     R"({"to":"b@example.test","subject":"s","body":"b","attachments":[{"filename":"a","contentType":"text","content":""}]})",
     "`attachments[0].contentType` \"text\" must be a media type"},
    {"send_mail",
     R"({"to":"b@example.test","subject":"s","body":"b","attachments":[{"filename":"a","contentType":"text/plain","content":"aGk"}]})",
     "`attachments[0].content` is not valid base64"},
    {"send_mail",
     R"({"to":"b@example.test","subject":"s","body":"b","attachments":[{"filename":"a","contentType":"text/plain"}]})",
     "`attachments[0].content` is missing"},
    {"send_mail",
     R"({"to":"b@example.test","subject":"s","body":"b","attachments":[{"fromUid":3,"partId":"2","content":"aGk="}]})",
     "`attachments[0].content` and `fromUid` cannot go together"},
    {"send_mail",
     R"({"to":"b@example.test","subject":"s","body":"b","attachments":[{"fromUid":3}]})",
     "`attachments[0].partId` is needed with fromUid"},
    {"send_mail",
     R"({"to":"b@example.test","subject":"s","body":"b","attachments":[{"folder":"INBOX","partId":"2"}]})",
     "`attachments[0].folder` belongs to a reference: give fromUid too"},
    {"send_mail",
     R"({"to":"b@example.test","subject":"s","body":"b","attachments":[{"fromUid":0,"partId":"2"}]})",
     "`attachments[0].fromUid` must be between 1 and 4294967295"},
    {"send_mail",
     R"({"to":"b@example.test","subject":"s","body":"b","attachments":[{"fromUid":3,"partId":"x"}]})",
     "`attachments[0].partId` must be a part number"},
    {"forward_message",
     R"({"uid":1,"to":"b@example.test","attachments":[{"fromUid":3,"partId":"2","filename":"../x"}]})",
     "`attachments[0].filename` \"../x\" must be a plain file name"},
    {"send_mail",
     R"({"to":"b@example.test","subject":"s","body":"b","from":"a@x.test, c@x.test"})",
     "`from` must be one address"},
    {"send_mail",
     R"({"to":"b@example.test","subject":"s","body":"b","from":"nobody"})",
     "`from`: "},
    {"reply_message", R"({"uid":1,"body":"b","from":"<>"})", "`from`: "},
    {"save_draft", R"({"from":"x@y.test, z@y.test"})",
     "`from` must be one address"},
    {"get_attachment", R"({"uid":1})", "`partId` is required"},
    {"get_attachment", R"({"uid":1,"partId":"2.x"})",
     "`partId` must be a part number"},
    {"get_attachment", R"({"uid":1,"partId":"1..2"})",
     "`partId` must be a part number"},
    {"reply_message", R"({"body":"b"})", "`uid` is required"},
    {"reply_message", R"({"uid":1})", "`body` is required"},
    {"forward_message", R"({"uid":1})", "`to` is required"},
    {"forward_message", R"({"uid":1,"to":" , "})",
     "`to` must name at least one recipient"},
    {"save_draft", R"({"replyToUid":1,"forwardUid":2})", "not both"},
    {"save_draft", R"({"replyAll":true})", "only applies to replies"},
    {"save_draft", R"({"forwardUid":2,"inReplyTo":"<a@b>"})",
     "`inReplyTo` is derived"},
  };
  for (auto& c : cases) {
    auto err = error_of(c.tool, c.args);
    EXPECT_NE(err.find(c.expected), std::string::npos)
      << c.tool << " " << c.args << " -> " << err;
    EXPECT_EQ(err.rfind("Invalid arguments for ", 0), 0u) << err;
  }
  auto t = find_tool("list_folders");
  auto not_object = parse("[1]");
  auto r = parse_arguments(*t, &not_object);
  EXPECT_NE(r.error.find("the arguments must be an object"), std::string::npos)
    << r.error;
}

TEST(mcp_tools, send_mail_parses_addresses) {
  auto s = args_of<send_mail_args>(
    "send_mail",
    R"({"to":"Bob <bob@example.test>, carol@example.test","cc":"dave@example.test",)"
    R"("subject":"Hi","body":"Hello","html":"<p>Hello</p>","inReplyTo":"abc@example.test"})");
  ASSERT_EQ(s.message.to.size(), 2u);
  EXPECT_EQ(s.message.to[0].name, "Bob");
  EXPECT_EQ(s.message.to[1].address, "carol@example.test");
  ASSERT_EQ(s.message.cc.size(), 1u);
  EXPECT_EQ(s.message.subject, "Hi");
  EXPECT_EQ(s.message.text, "Hello");
  EXPECT_EQ(s.message.html, "<p>Hello</p>");
  EXPECT_EQ(s.message.in_reply_to, "<abc@example.test>");
  EXPECT_TRUE(s.message.from.address.empty()); // the account's own
  // `from` is taken as typed; the ACCOUNT checks it is one of its own.
  auto f = args_of<send_mail_args>(
    "send_mail",
    R"({"to":"b@example.test","subject":"s","body":"b","from":"Sales <Sales@Example.test>"})");
  EXPECT_EQ(f.message.from.name, "Sales");
  EXPECT_EQ(f.message.from.address, "Sales@Example.test");
  auto blank = args_of<send_mail_args>(
    "send_mail", R"({"to":"b@example.test","subject":"s","body":"b","from":"  "})");
  EXPECT_TRUE(blank.message.from.address.empty());
  auto reply = args_of<compose_args>(
    "forward_message", R"({"uid":3,"to":"b@example.test","from":"me@x.test"})");
  EXPECT_EQ(reply.request.message.from.address, "me@x.test");
}

TEST(mcp_tools, results_conform_to_their_output_schemas) {
  imap::folder inbox;
  inbox.name = "INBOX";
  inbox.delimiter = "/";
  inbox.special_use = "\\Inbox";
  imap::folder nested;
  nested.name = "Projects/2026";
  nested.delimiter = "/";
  nested.has_counts = true;
  nested.messages = 5;
  nested.unseen = 2;
  auto folders = encode_folders({inbox, nested});
  expect_conforms("list_folders", folders);
  auto fdoc = parse(folders);
  EXPECT_STREQ(fdoc["folders"][1]["name"].GetString(), "2026");
  EXPECT_STREQ(fdoc["folders"][1]["path"].GetString(), "Projects/2026");
  EXPECT_TRUE(fdoc["folders"][1]["specialUse"].IsNull());
  EXPECT_EQ(fdoc["folders"][1]["unseen"].GetInt(), 2);

  imap::message_page page;
  page.messages = {summary(3), summary(2)};
  page.messages[1].subject.clear();
  page.messages[1].date.clear();
  page.total = 2;
  page.next_cursor = "opaque";
  auto listed = encode_page(page, nullptr);
  expect_conforms("list_messages", listed);
  auto ldoc = parse(listed);
  EXPECT_STREQ(ldoc["messages"][1]["subject"].GetString(), "(no subject)");
  EXPECT_TRUE(ldoc["messages"][1]["date"].IsNull());
  EXPECT_STREQ(ldoc["nextCursor"].GetString(), "opaque");
  EXPECT_FALSE(ldoc.HasMember("truncated"));

  imap::read_outcome ok;
  ok.uid = 3;
  ok.msg.summary = summary(3);
  ok.msg.body = "Hello";
  ok.msg.body_length = 5;
  ok.msg.body_format = "text/plain";
  ok.msg.attachments.push_back(
    {"2", "application/pdf", "a.pdf", 10, "attachment", ""});
  imap::read_outcome missing;
  missing.uid = 99;
  missing.error = caf::make_error(ec::no_such_message,
                                  "no message with UID 99");
  auto single = encode_read({ok}, false);
  expect_conforms("read_message", single);
  EXPECT_STREQ(parse(single)["body"].GetString(), "Hello");
  auto several = encode_read({ok, missing}, true);
  expect_conforms("read_message", several);
  auto sdoc = parse(several);
  EXPECT_STREQ(sdoc["messages"][1]["error"].GetString(),
               "no message with UID 99");

  imap::search_result found;
  found.messages = {summary(8)};
  found.total = 30;
  expect_conforms("search_messages", encode_search(found, nullptr));

  move_message_args margs;
  margs.folder = "INBOX";
  margs.uid = 8;
  margs.destination = "Archive";
  imap::move_result moved{8, "Archive", 0};
  auto mjson = encode_move(margs, moved);
  expect_conforms("move_message", mjson);
  EXPECT_TRUE(parse(mjson)["newUid"].IsNull());
  imap::flag_result flagged{8, {"\\Flagged"}, {}, {"\\Seen", "\\Flagged"}};
  expect_conforms("flag_message", encode_flag(flagged));
  auto sent = encode_sent("<x@y>", "me@example.com", "Sent", 12, "");
  expect_conforms("send_mail", sent);
  auto unsaved = encode_sent("<x@y>", "me@example.com", "", 0, "APPEND failed");
  expect_conforms("send_mail", unsaved);
  EXPECT_NE(
    std::string{parse(unsaved)["notice"].GetString()}.find("APPEND failed"),
    std::string::npos);
}

TEST(mcp_tools, long_bodies_are_cut_below_the_limit_with_a_marker) {
  imap::read_outcome big;
  big.uid = 5;
  big.msg.summary = summary(5);
  // 200 000 characters of 2-byte UTF-8: the cap counts characters.
  std::string body;
  for (int i = 0; i < 200000; ++i)
    body += "\xC3\xA9";
  big.msg.body = body;
  big.msg.body_length = 200000;
  auto json = encode_read({big}, false);
  EXPECT_LE(count_code_points(json), max_result_chars);
  EXPECT_TRUE(is_valid_utf8(json));
  auto doc = parse(json);
  EXPECT_TRUE(doc["truncated"].GetBool());
  auto shown = count_code_points(doc["body"].GetString());
  EXPECT_GT(shown, 100000u);
  EXPECT_EQ(doc["nextOffset"].GetUint64(), shown);
  EXPECT_NE(std::string{doc["notice"].GetString()}.find(
              "offset=" + std::to_string(shown)),
            std::string::npos);
  expect_conforms("read_message", json);
  // The wrapped result stays well-formed too.
  auto wrapped = parse(tool_success(json));
  EXPECT_FALSE(wrapped["isError"].GetBool());
  EXPECT_TRUE(wrapped["structuredContent"].IsObject());
  EXPECT_EQ(std::string{wrapped["content"][0]["text"].GetString()}, json);
}

TEST(mcp_tools, long_lists_are_shortened_with_a_marker) {
  imap::message_page page;
  for (uint32_t uid = 1; uid <= 50; ++uid) {
    auto s = summary(uid);
    s.subject = std::string(5000, 'x');
    page.messages.push_back(s);
  }
  page.total = 50;
  auto json = encode_page(page, nullptr);
  EXPECT_LE(count_code_points(json), max_result_chars);
  auto doc = parse(json);
  EXPECT_TRUE(doc["truncated"].GetBool());
  EXPECT_LT(doc["messages"].Size(), 50u);
  EXPECT_GT(doc["messages"].Size(), 10u);
  EXPECT_NE(std::string{doc["notice"].GetString()}.find("of 50 messages"),
            std::string::npos);
  // Previews shrink before messages are dropped.
  std::vector<imap::read_outcome> previews;
  imap::message_page small;
  for (uint32_t uid = 1; uid <= 50; ++uid) {
    small.messages.push_back(summary(uid));
    imap::read_outcome o;
    o.uid = uid;
    o.msg.body = std::string(3000, 'y');
    previews.push_back(o);
  }
  auto with_previews = parse(encode_page(small, &previews));
  EXPECT_EQ(with_previews["messages"].Size(), 50u);
  EXPECT_EQ(
    std::string{with_previews["messages"][0]["body"].GetString()}.size(),
    preview_chars);
  EXPECT_TRUE(with_previews["messages"][0]["bodyTruncated"].GetBool());
}

TEST(mcp_tools, failures_are_tool_errors) {
  auto doc = parse(tool_failure("The folder \"Nope\" does not exist."));
  EXPECT_TRUE(doc["isError"].GetBool());
  EXPECT_FALSE(doc.HasMember("structuredContent"));
  EXPECT_STREQ(doc["content"][0]["type"].GetString(), "text");
}

TEST(mcp_tools, send_mail_decodes_attachments) {
  auto s = args_of<send_mail_args>(
    "send_mail",
    R"({"to":"bob@example.test","subject":"s","body":"b","attachments":[)"
    R"({"filename":"hi.txt","contentType":"Text/Plain","content":"aGk="}]})");
  ASSERT_EQ(s.message.attachments.size(), 1u);
  EXPECT_EQ(s.message.attachments[0].filename, "hi.txt");
  EXPECT_EQ(s.message.attachments[0].content_type, "text/plain");
  EXPECT_EQ(s.message.attachments[0].data, "hi");
}

TEST(mcp_tools, attachments_by_reference_name_their_part) {
  auto s = args_of<send_mail_args>(
    "send_mail",
    R"({"to":"bob@example.test","subject":"s","body":"b","attachments":[)"
    R"({"fromUid":12,"folder":"Archive","partId":"1.2"},)"
    R"({"fromUid":4,"partId":"2","filename":"bill.pdf"}]})");
  ASSERT_EQ(s.message.attachments.size(), 2u);
  auto& a = s.message.attachments[0];
  EXPECT_EQ(a.source_uid, 12u);
  EXPECT_EQ(a.source_folder, "Archive");
  EXPECT_EQ(a.source_part, "1.2");
  EXPECT_EQ(a.filename, "");
  EXPECT_EQ(a.data, "");
  auto& b = s.message.attachments[1];
  EXPECT_EQ(b.source_uid, 4u);
  EXPECT_EQ(b.source_folder, "INBOX");
  EXPECT_EQ(b.filename, "bill.pdf");
}

TEST(mcp_tools, composing_tools_fill_their_request) {
  auto r = args_of<compose_args>(
             "reply_message",
             R"({"uid":7,"body":"ok","replyAll":true,"quoteOriginal":false})")
             .request;
  EXPECT_EQ(r.kind, mime::compose_kind::reply);
  EXPECT_EQ(r.uid, 7u);
  EXPECT_EQ(r.folder, "INBOX");
  EXPECT_TRUE(r.reply_all);
  EXPECT_FALSE(r.quote);
  EXPECT_FALSE(r.draft);
  EXPECT_EQ(r.message.text, "ok");
  auto f = args_of<compose_args>(
             "forward_message",
             R"({"uid":8,"folder":"Archive","to":"carol@example.test"})")
             .request;
  EXPECT_EQ(f.kind, mime::compose_kind::forward);
  EXPECT_EQ(f.folder, "Archive");
  EXPECT_FALSE(f.draft);
  ASSERT_EQ(f.message.to.size(), 1u);
  auto d
    = args_of<compose_args>("save_draft", R"({"subject":"later"})").request;
  EXPECT_EQ(d.kind, mime::compose_kind::new_message);
  EXPECT_TRUE(d.draft);
  EXPECT_TRUE(d.message.to.empty());
  auto dr = args_of<compose_args>("save_draft",
                                  R"({"replyToUid":3,"body":"x"})")
              .request;
  EXPECT_EQ(dr.kind, mime::compose_kind::reply);
  EXPECT_EQ(dr.uid, 3u);
  EXPECT_TRUE(dr.draft);
  auto df = args_of<compose_args>("save_draft", R"({"forwardUid":4})").request;
  EXPECT_EQ(df.kind, mime::compose_kind::forward);
  auto a = args_of<get_attachment_args>("get_attachment",
                                        R"({"uid":5,"partId":"1.2"})");
  EXPECT_EQ(a.uid, 5u);
  EXPECT_EQ(a.part_id, "1.2");
}

TEST(mcp_tools, composing_results_conform) {
  auto text
    = part(2, "2", "text/plain", mime::attachment_kind::text, "Grüße");
  text.filename = "notes.txt";
  expect_conforms("get_attachment", encode_attachment("INBOX", text));
  auto tdoc = parse(attachment_result("INBOX", text));
  EXPECT_EQ(tdoc["content"].Size(), 1u);
  EXPECT_STREQ(tdoc["structuredContent"]["text"].GetString(), "Grüße");
  mime::attachment_content image = text;
  image.mime_type = "image/png";
  image.kind = mime::attachment_kind::image;
  image.data = std::string("\x89PNG", 4);
  auto idoc = parse(attachment_result("INBOX", image));
  ASSERT_EQ(idoc["content"].Size(), 2u);
  EXPECT_STREQ(idoc["content"][1]["type"].GetString(), "image");
  EXPECT_STREQ(idoc["content"][1]["data"].GetString(), "iVBORw==");
  EXPECT_FALSE(idoc["structuredContent"].HasMember("text"));
  mime::attachment_content file = image;
  file.mime_type = "application/pdf";
  file.kind = mime::attachment_kind::file;
  auto fdoc = parse(attachment_result("INBOX", file));
  EXPECT_STREQ(fdoc["content"][1]["type"].GetString(), "resource");
  EXPECT_STREQ(fdoc["content"][1]["resource"]["blob"].GetString(), "iVBORw==");
  EXPECT_STREQ(fdoc["content"][1]["resource"]["mimeType"].GetString(),
               "application/pdf");
  // Text that cannot fit in one result is refused, not cut silently.
  text.data = std::string(max_result_chars, '"');
  auto big = parse(attachment_result("INBOX", text));
  EXPECT_TRUE(big["isError"].GetBool());

  mime::composed_message sent;
  sent.message_id = "<x@example.test>";
  sent.folder = "Sent";
  sent.uid = 9;
  sent.subject = "Re: Hi";
  sent.to = {{"Frank", "frank@example.test"}};
  sent.in_reply_to = "<q@example.test>";
  sent.references = {"<q@example.test>"};
  expect_conforms("reply_message", encode_composed(sent, false));
  expect_conforms("forward_message", encode_composed(sent, false));
  sent.folder = "Drafts";
  auto draft = encode_composed(sent, true);
  expect_conforms("save_draft", draft);
  EXPECT_EQ(parse(draft)["uid"].GetUint(), 9u);
}
