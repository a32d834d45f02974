// SPDX-License-Identifier: Apache-2.0
// The organizing tools (get_thread, folders, copy, safe delete, bulk move
// and flag, search of every folder): arguments, results and their schemas.
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

namespace {

std::string uid_list(size_t n) {
  std::string json = "[";
  for (size_t i = 1; i <= n; ++i)
    json += (i > 1 ? "," : "") + std::to_string(i);
  return json + "]";
}

} // namespace

TEST(mcp_organize_tools, scopes_and_annotations_are_truthful) {
  EXPECT_EQ(find_tool("get_thread")->required, scope::read);
  EXPECT_TRUE(find_tool("get_thread")->hints.read_only);
  for (auto name : {"create_folder", "rename_folder", "delete_folder",
                    "delete_message", "copy_message"}) {
    auto t = find_tool(name);
    ASSERT_NE(t, nullptr) << name;
    EXPECT_EQ(t->required, scope::modify) << name;
    EXPECT_FALSE(t->hints.read_only) << name;
    EXPECT_FALSE(t->hints.open_world) << name;
  }
  // Additive tools are not destructive; the others are.
  EXPECT_FALSE(find_tool("create_folder")->hints.destructive);
  EXPECT_FALSE(find_tool("copy_message")->hints.destructive);
  EXPECT_TRUE(find_tool("rename_folder")->hints.destructive);
  EXPECT_TRUE(find_tool("delete_folder")->hints.destructive);
  EXPECT_TRUE(find_tool("delete_message")->hints.destructive);
}

TEST(mcp_organize_tools, single_uid_forms_stay_as_in_the_original) {
  auto moved = args_of<move_message_args>(
    "move_message", R"({"folder":"INBOX","uid":7,"destination":"Archive"})");
  EXPECT_EQ(moved.uid, 7u);
  auto flagged = args_of<flag_message_args>("flag_message",
                                            R"({"uid":7,"flagged":true})");
  EXPECT_EQ(flagged.uid, 7u);
  EXPECT_EQ(flagged.change.flagged, imap::flag_action::add);
}

TEST(mcp_organize_tools, uids_make_bulk_changes) {
  auto moved = args_of<bulk_change_args>(
    "move_message",
    R"({"folder":"INBOX","uids":[3,1,3],"destination":"Archive"})");
  EXPECT_TRUE(moved.several);
  EXPECT_EQ(moved.request.kind, imap::bulk_kind::move);
  EXPECT_EQ(moved.request.uids, (std::vector<uint32_t>{3, 1}));
  EXPECT_EQ(moved.request.destination, "Archive");
  auto flagged = args_of<bulk_change_args>("flag_message",
                                           R"({"uids":[4,5],"seen":false})");
  EXPECT_EQ(flagged.request.kind, imap::bulk_kind::flag);
  EXPECT_EQ(flagged.request.folder, "INBOX");
  EXPECT_EQ(flagged.request.change.seen, imap::flag_action::remove);
  auto deleted = args_of<bulk_change_args>("delete_message", R"({"uid":9})");
  EXPECT_EQ(deleted.request.kind, imap::bulk_kind::remove);
  EXPECT_EQ(deleted.request.folder, "INBOX");
  EXPECT_FALSE(deleted.several);
  auto copied = args_of<bulk_change_args>(
    "copy_message", R"({"folder":"A","uids":[1,2],"destination":"B"})");
  EXPECT_EQ(copied.request.kind, imap::bulk_kind::copy);
  // 100 is the most; 101 is refused with the count.
  args_of<bulk_change_args>("delete_message",
                            R"({"uids":)" + uid_list(100) + "}");
  EXPECT_NE(error_of("delete_message", R"({"uids":)" + uid_list(101) + "}")
              .find("`uids` must have at most 100 items (got 101)"),
            std::string::npos);
  EXPECT_NE(error_of("move_message",
                     R"({"folder":"INBOX","destination":"A","uids":)"
                       + uid_list(101) + "}")
              .find("at most 100 items"),
            std::string::npos);
}

TEST(mcp_organize_tools, bad_arguments_get_sentences) {
  struct case_t {
    const char* tool;
    const char* args;
    const char* expected;
  };
  case_t cases[] = {
    {"get_thread", R"({})", "`uid` is required"},
    {"get_thread", R"({"uid":0})", "`uid` must be between 1"},
    {"create_folder", R"({})", "`folder` is required"},
    {"create_folder", R"({"folder":""})", "`folder` must not be empty"},
    {"rename_folder", R"({"folder":"A"})", "`newName` is required"},
    {"rename_folder", R"({"folder":"A","newName":"A"})",
     "`newName` is the folder's current name"},
    {"delete_folder", R"({"name":"A"})", "unknown argument `name`"},
    {"delete_message", R"({})", "give `uid` (one message) or `uids`"},
    {"delete_message", R"({"uids":[]})", "at least 1"},
    {"copy_message", R"({"folder":"A","uid":1})", "`destination` is required"},
    {"copy_message", R"({"folder":"A","uid":1,"destination":"A"})",
     "already in"},
    {"move_message", R"({"folder":"INBOX","destination":"A"})",
     "give `uid` (one message) or `uids` (up to 100)"},
    {"flag_message", R"({"uids":[1]})", "give at least one of `seen`"},
  };
  for (auto& c : cases) {
    auto err = error_of(c.tool, c.args);
    EXPECT_NE(err.find(c.expected), std::string::npos)
      << c.tool << " " << c.args << " -> " << err;
    EXPECT_EQ(err.rfind("Invalid arguments for ", 0), 0u) << err;
  }
}

TEST(mcp_organize_tools, results_conform_to_their_output_schemas) {
  get_thread_args targs;
  targs.uid = 2;
  imap::thread_result thread;
  thread.messages = {{"INBOX", summary(1)}, {"INBOX", summary(2)},
                     {"Sent", summary(5)}};
  thread.total = 3;
  thread.method = "THREAD=REFERENCES";
  auto tjson = encode_thread(targs, thread);
  expect_conforms("get_thread", tjson);
  auto tdoc = parse(tjson);
  EXPECT_EQ(tdoc["messages"].Size(), 3u);
  EXPECT_STREQ(tdoc["method"].GetString(), "THREAD=REFERENCES");
  EXPECT_STREQ(tdoc["folder"].GetString(), "INBOX");
  // Each message names where it is: a reply in Sent beside the folder's.
  EXPECT_STREQ(tdoc["messages"][1]["folder"].GetString(), "INBOX");
  EXPECT_STREQ(tdoc["messages"][2]["folder"].GetString(), "Sent");

  imap::folder created;
  created.name = "Projekte/Grüße";
  created.delimiter = "/";
  imap::folder_change change;
  change.action = imap::folder_action::rename;
  change.name = "Old";
  change.new_name = created.name;
  for (auto tool : {"create_folder", "rename_folder", "delete_folder"}) {
    auto json = encode_folder_change(change, created);
    expect_conforms(tool, json);
  }
  auto fdoc = parse(encode_folder_change(change, created));
  EXPECT_STREQ(fdoc["folder"]["name"].GetString(), "Grüße");
  EXPECT_STREQ(fdoc["previousPath"].GetString(), "Old");

  imap::bulk_result bulk;
  bulk.kind = imap::bulk_kind::remove;
  bulk.folder = "INBOX";
  bulk.destination = "Trash";
  bulk.outcomes.resize(2);
  bulk.outcomes[0].uid = 4;
  bulk.outcomes[0].new_uid = 11;
  bulk.outcomes[1].uid = 99;
  bulk.outcomes[1].error = caf::make_error(ec::no_such_message,
                                           "There is no message with UID 99");
  auto bjson = encode_bulk(bulk);
  for (auto tool : {"delete_message", "copy_message", "move_message"})
    expect_conforms(tool, bjson);
  auto bdoc = parse(bjson);
  EXPECT_FALSE(bdoc["success"].GetBool());
  EXPECT_FALSE(bdoc["deletedForGood"].GetBool());
  EXPECT_EQ(bdoc["results"][0]["newUid"].GetInt(), 11);
  EXPECT_STREQ(bdoc["results"][1]["error"].GetString(),
               "There is no message with UID 99");
  EXPECT_TRUE(bulk_failure(bulk).empty()); // one succeeded

  bulk.outcomes.erase(bulk.outcomes.begin());
  EXPECT_EQ(bulk_failure(bulk), "There is no message with UID 99.");

  imap::bulk_result flags;
  flags.kind = imap::bulk_kind::flag;
  flags.folder = "INBOX";
  flags.added = {"\\Seen"};
  flags.outcomes.resize(1);
  flags.outcomes[0].uid = 3;
  flags.outcomes[0].flags = {"\\Seen"};
  expect_conforms("flag_message", encode_bulk(flags));

  imap::bulk_result purged;
  purged.kind = imap::bulk_kind::remove;
  purged.folder = "Trash";
  purged.outcomes.resize(1);
  purged.outcomes[0].uid = 3;
  auto pdoc = parse(encode_bulk(purged));
  EXPECT_TRUE(pdoc["deletedForGood"].GetBool());
  EXPECT_TRUE(pdoc["destination"].IsNull());
  expect_conforms("delete_message", encode_bulk(purged));

  imap::multi_search_result everywhere;
  everywhere.messages = {{"INBOX", summary(9)}, {"Archive/2023", summary(9)}};
  everywhere.total = 2;
  everywhere.folders_searched = 4;
  everywhere.errors = {{"Broken", "The folder \"Broken\" does not exist"}};
  auto sjson = encode_search_everywhere(everywhere, nullptr);
  expect_conforms("search_messages", sjson);
  auto sdoc = parse(sjson);
  EXPECT_STREQ(sdoc["messages"][1]["folder"].GetString(), "Archive/2023");
  EXPECT_STREQ(sdoc["errors"][0]["folder"].GetString(), "Broken");
  EXPECT_EQ(sdoc["foldersSearched"].GetInt(), 4);
  EXPECT_FALSE(sdoc["messages"][0].HasMember("body"));

  // Previews follow the messages in order: the same UID in two folders gets
  // each its own text; a failed read leaves that message without one.
  std::vector<imap::read_outcome> previews(2);
  previews[0].uid = 9;
  previews[0].msg.body = "inbox text";
  previews[1].uid = 9;
  previews[1].msg.body = "archive text";
  auto with_bodies = parse(encode_search_everywhere(everywhere, &previews));
  EXPECT_STREQ(with_bodies["messages"][0]["body"].GetString(), "inbox text");
  EXPECT_STREQ(with_bodies["messages"][1]["body"].GetString(), "archive text");
  previews[1].error = caf::make_error(ec::no_such_message, "gone");
  auto partial = parse(encode_search_everywhere(everywhere, &previews));
  EXPECT_FALSE(partial["messages"][1].HasMember("body"));
}
