// SPDX-License-Identifier: Apache-2.0
#include "postern/mcp/tools.hpp"

#include "postern/error.hpp"
#include "postern/mcp/json.hpp"
#include "postern/mcp/schema.hpp"
#include "postern/mime/address.hpp"
#include "postern/mime/charset.hpp"
#include "postern/mime/header.hpp"
#include "postern/mime/transfer_encoding.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <map>
#include <memory>

namespace postern::mcp {

namespace {

// -- schemas ------------------------------------------------------------------

// Reused pieces of the output schemas.
const std::string addresses = R"j({"type":"array","items":{"type":"object",)j"
                              R"j("properties":{"name":{"type":"string"},)j"
                              R"j("address":{"type":"string"}},)j"
                              R"j("required":["name","address"]}})j";

const std::string string_list = R"j({"type":"array","items":{"type":"string"}})j";

/// Properties of a message summary (list, search, read).
std::string summary_properties() {
  return R"j("uid":{"type":"integer"},"subject":{"type":"string"},"from":)j"
         + addresses + R"j(,"to":)j" + addresses + R"j(,"cc":)j" + addresses
         + R"j(,"date":{"type":["string","null"],"description":"Date header, ISO 8601 UTC"},)j"
           R"j("received":{"type":["string","null"],"description":"When the server received it, ISO 8601 UTC"},)j"
           R"j("flags":)j"
         + string_list
         + R"j(,"size":{"type":"integer"},"hasAttachments":{"type":"boolean"},)j"
           R"j("messageId":{"type":["string","null"]},"inReplyTo":{"type":["string","null"]})j";
}

std::string summary_schema(const std::string& extra_properties = {}) {
  return R"j({"type":"object","properties":{)j" + summary_properties()
         + (extra_properties.empty() ? "" : "," + extra_properties)
         + R"j(,"body":{"type":"string","description":"The start of the text (includeBody)"},)j"
           R"j("bodyTruncated":{"type":"boolean"}},)j"
           R"j("required":["uid","subject","from","to","date","flags","messageId"]})j";
}

std::string message_properties() {
  return summary_properties() + R"j(,"replyTo":)j" + addresses + R"j(,"bcc":)j"
         + addresses + R"j(,"references":)j" + string_list
         + R"j(,"body":{"type":"string"},"bodyFormat":{"type":"string"},)j"
           R"j("bodyLength":{"type":"integer","description":"Length of the whole text in characters"},)j"
           R"j("offset":{"type":"integer"},"truncated":{"type":"boolean"},)j"
           R"j("nextOffset":{"type":"integer","description":"Pass as offset to read on"},)j"
           R"j("incomplete":{"type":"boolean"},"notice":{"type":"string"},)j"
           R"j("attachments":{"type":"array","items":{"type":"object","properties":{)j"
           R"j("partId":{"type":"string"},"mimeType":{"type":"string"},)j"
           R"j("filename":{"type":"string"},"size":{"type":"integer"},)j"
           R"j("disposition":{"type":"string"},"contentId":{"type":"string"}},)j"
           R"j("required":["partId","mimeType","filename","size"]}})j";
}

const std::string folder_arg
  = R"j("folder":{"type":"string","minLength":1,"maxLength":1000,"default":"INBOX",)j"
    R"j("description":"Folder path as list_folders returns it"})j";

const std::string uid_property
  = R"j({"type":"integer","minimum":1,"maximum":4294967295,)j"
    R"j("description":"Message UID from list_messages or search_messages"})j";

const std::string uids_property
  = R"j({"type":"array","minItems":1,"maxItems":100,"items":)j" + uid_property
    + R"j(,"description":"Several UIDs at once (up to 100), each with its own outcome; uid is then not needed"})j";

/// Per-UID outcomes of a change of several messages.
const std::string results_property
  = R"j({"type":"array","items":{"type":"object","properties":{)j"
    R"j("uid":{"type":"integer"},"success":{"type":"boolean"},)j"
    R"j("newUid":{"type":["integer","null"],"description":"UID in the destination, if the server said"},)j"
    R"j("flags":{"type":"array","items":{"type":"string"}},)j"
    R"j("error":{"type":"string"}},"required":["uid","success"]}})j";

/// Arguments of move_message and copy_message.
std::string transfer_input(const std::string& folder_description,
                           const std::string& destination_description) {
  return R"j({"type":"object","properties":{)j"
         R"j("folder":{"type":"string","minLength":1,"maxLength":1000,"description":")j"
         + folder_description + R"j("},"uid":)j" + uid_property
         + R"j(,"uids":)j" + uids_property
         + R"j(,"destination":{"type":"string","minLength":1,"maxLength":1000,"description":")j"
         + destination_description
         + R"j("}},"required":["folder","destination"],"additionalProperties":false})j";
}

const std::string date_pattern = R"j(^[0-9]{4}-[0-9]{2}-[0-9]{2}$)j";

const std::string attachments_arg
  = R"j("attachments":{"type":"array","maxItems":20,"items":{"type":"object","properties":{)j"
    R"j("filename":{"type":"string","minLength":1,"maxLength":255,"description":"File name without a path"},)j"
    R"j("contentType":{"type":"string","minLength":3,"maxLength":255,"description":"Media type, e.g. application/pdf"},)j"
    R"j("content":{"type":"string","description":"The file's bytes, base64-encoded"}},)j"
    R"j("required":["filename","contentType","content"],"additionalProperties":false},)j"
    R"j("description":"Files to attach (up to 20; their total size is limited)"})j";

/// Arguments of composing tools that mean the same as send_mail's.
const std::string compose_text_args
  = R"j("body":{"type":"string","maxLength":500000,"description":"Plain-text body"},)j"
    R"j("html":{"type":"string","maxLength":500000,"description":"Optional HTML version of the body"},)j"
    R"j("cc":{"type":"string","maxLength":10000,"description":"Cc recipients, comma-separated"},)j"
    R"j("bcc":{"type":"string","maxLength":10000,"description":"Bcc recipients, comma-separated (not shown to others)"},)j";

const std::string quote_arg
  = R"j("quoteOriginal":{"type":"boolean","default":true,"description":"Quote the original's text below the reply"})j";

const std::string reply_all_arg
  = R"j("replyAll":{"type":"boolean","default":false,"description":"Also reply to everyone in the original's To and Cc"})j";

/// Output properties shared by the composing tools.
std::string composed_properties() {
  return R"j("success":{"type":"boolean"},"messageId":{"type":"string"},)j"
         R"j("subject":{"type":"string"},"to":)j"
         + addresses + R"j(,"cc":)j" + addresses
         + R"j(,"inReplyTo":{"type":["string","null"]},"references":)j"
         + string_list + R"j(,"attachments":)j" + string_list;
}

struct catalogue {
  std::deque<std::string> texts; // owns the schema strings (stable)
  std::vector<tool_def> tools;
  std::map<std::string_view, std::unique_ptr<rapidjson::Document>> inputs;

  std::string_view keep(std::string s) {
    texts.push_back(std::move(s));
    return texts.back();
  }

  void add_organizing_tools();
  void add_composing_tools();

  catalogue() {
    auto list_input = keep(
      R"j({"type":"object","properties":{)j"
      R"j("includeCounts":{"type":"boolean","default":false,)j"
      R"j("description":"Also return how many messages and unread messages each folder holds (slower)"}},)j"
      R"j("additionalProperties":false})j");
    auto list_output = keep(
      R"j({"type":"object","properties":{"folders":{"type":"array","items":{"type":"object","properties":{)j"
      R"j("name":{"type":"string","description":"Last part of the path"},)j"
      R"j("path":{"type":"string","description":"Pass this as folder to other tools"},)j"
      R"j("delimiter":{"type":["string","null"]},)j"
      R"j("specialUse":{"type":["string","null"],"description":"\\Inbox, \\Sent, \\Drafts, \\Trash, \\Junk, \\Archive, \\Flagged or \\All"},)j"
      R"j("selectable":{"type":"boolean"},"messages":{"type":"integer"},"unseen":{"type":"integer"}},)j"
      R"j("required":["name","path","delimiter","specialUse","selectable"]}},)j"
      R"j("truncated":{"type":"boolean"},"notice":{"type":"string"}},"required":["folders"]})j");
    auto messages_input = keep(
      R"j({"type":"object","properties":{)j" + folder_arg
      + R"j(,"page":{"type":"integer","minimum":1,"maximum":1000000,"default":1,)j"
        R"j("description":"Page number, 1 = newest messages (ignored with cursor)"},)j"
        R"j("pageSize":{"type":"integer","minimum":1,"maximum":50,"default":20,)j"
        R"j("description":"Messages per page (max 50)"},)j"
        R"j("includeBody":{"type":"boolean","default":false,)j"
        R"j("description":"Include the first 2000 characters of each message's text, saving read_message calls"},)j"
        R"j("cursor":{"type":"string","minLength":1,"maxLength":512,)j"
        R"j("description":"nextCursor of an earlier call: continues after its last message even if new mail arrived"}},)j"
        R"j("additionalProperties":false})j");
    auto messages_output = keep(
      R"j({"type":"object","properties":{"messages":{"type":"array","items":)j"
      + summary_schema()
      + R"j(},"total":{"type":"integer"},"page":{"type":"integer"},"pageSize":{"type":"integer"},)j"
        R"j("nextCursor":{"type":"string","description":"Pass as cursor for the next (older) page"},)j"
        R"j("truncated":{"type":"boolean"},"notice":{"type":"string"}},)j"
        R"j("required":["messages","total","page","pageSize"]})j");
    auto read_input = keep(
      R"j({"type":"object","properties":{)j" + folder_arg + R"j(,"uid":)j"
      + uid_property
      + R"j(,"uids":{"type":"array","minItems":1,"maxItems":10,"items":)j"
      + uid_property
      + R"j(,"description":"Several UIDs to read at once (up to 10); uid is then not needed"},)j"
        R"j("offset":{"type":"integer","minimum":0,"maximum":1000000000,"default":0,)j"
        R"j("description":"First character of the text to return; use nextOffset of a truncated body to read on"},)j"
        R"j("maxLength":{"type":"integer","minimum":1,"maximum":130000,)j"
        R"j("description":"Most characters of text per message (default: as much as fits in one result)"}},)j"
        R"j("additionalProperties":false})j");
    auto read_output = keep(
      R"j({"type":"object","properties":{)j" + message_properties()
      + R"j(,"messages":{"type":"array","items":{"type":"object","properties":{)j"
      + message_properties()
      + R"j(,"error":{"type":"string"}},"required":["uid"]}}}})j");
    auto search_input = keep(
      std::string{R"j({"type":"object","properties":{)j"
      R"j("folder":{"type":"string","minLength":1,"maxLength":1000,"default":"INBOX",)j"
      R"j("description":"Folder path as list_folders returns it, or \"*\" to search every folder"})j"
      R"j(,"query":{"type":"string","maxLength":1000,"description":"Text in the subject or body"},)j"
        R"j("from":{"type":"string","maxLength":1000,"description":"Text in the sender"},)j"
        R"j("to":{"type":"string","maxLength":1000,"description":"Text in the recipients"},)j"
        R"j("subject":{"type":"string","maxLength":1000,"description":"Text in the subject"},)j"
        R"j("body":{"type":"string","maxLength":1000,"description":"Text in the body"},)j"
        R"j("text":{"type":"string","maxLength":1000,"description":"Text anywhere in headers or body"},)j"
        R"j("since":{"type":"string","pattern":")j"}
      + date_pattern
      + R"j(","description":"Received on or after this day (YYYY-MM-DD)"},)j"
        R"j("before":{"type":"string","pattern":")j"
      + date_pattern
      + R"j(","description":"Received before this day (YYYY-MM-DD)"},)j"
        R"j("unseen":{"type":"boolean","description":"Only unread messages"},)j"
        R"j("flagged":{"type":"boolean","description":"Only flagged (starred) messages"},)j"
        R"j("answered":{"type":"boolean","description":"Only answered messages"},)j"
        R"j("limit":{"type":"integer","minimum":1,"maximum":50,"default":20,"description":"Most results, newest first (max 50)"},)j"
        R"j("includeBody":{"type":"boolean","default":false,)j"
        R"j("description":"Include the first 2000 characters of each message's text"}},)j"
        R"j("additionalProperties":false})j");
    auto search_output = keep(
      R"j({"type":"object","properties":{"messages":{"type":"array","items":)j"
      + summary_schema(R"j("folder":{"type":"string","description":"Where the message is (folder \"*\")"})j")
      + R"j(},"total":{"type":"integer","description":"All matches, even beyond limit"},)j"
        R"j("foldersSearched":{"type":"integer","description":"Folders searched (folder \"*\")"},)j"
        R"j("errors":{"type":"array","description":"Folders that could not be searched (folder \"*\")","items":{"type":"object",)j"
        R"j("properties":{"folder":{"type":"string"},"error":{"type":"string"}},"required":["folder","error"]}},)j"
        R"j("truncated":{"type":"boolean"},"notice":{"type":"string"}},)j"
        R"j("required":["messages","total"]})j");
    auto move_input = keep(
      transfer_input("Folder the message is in", "Folder to move it to"));
    auto move_output = keep(
      R"j({"type":"object","properties":{"success":{"type":"boolean"},"message":{"type":"string"},)j"
      R"j("uid":{"type":"integer"},"destination":{"type":"string"},)j"
      R"j("newUid":{"type":["integer","null"],"description":"The message's UID in the destination, if the server said"},)j"
      R"j("folder":{"type":"string"},"results":)j" + results_property
      + R"j(},"required":["success","message","destination"]})j");
    auto flag_input = keep(
      R"j({"type":"object","properties":{)j" + folder_arg + R"j(,"uid":)j"
      + uid_property + R"j(,"uids":)j" + uids_property
      + R"j(,"seen":{"type":"boolean","description":"true marks read, false unread"},)j"
        R"j("flagged":{"type":"boolean","description":"true stars, false unstars"},)j"
        R"j("deleted":{"type":"boolean","description":"true marks for deletion, false undoes it"},)j"
        R"j("answered":{"type":"boolean","description":"true marks answered, false clears it"}},)j"
        R"j("additionalProperties":false})j");
    auto flag_output = keep(
      R"j({"type":"object","properties":{"success":{"type":"boolean"},"uid":{"type":"integer"},)j"
      R"j("added":)j"
      + string_list + R"j(,"removed":)j" + string_list + R"j(,"flags":)j"
      + string_list + R"j(,"folder":{"type":"string"},"results":)j"
      + results_property
      + R"j(},"required":["success","added","removed"]})j");
    auto send_input = keep(
      R"j({"type":"object","properties":{)j"
      R"j("to":{"type":"string","minLength":1,"maxLength":10000,"description":"Recipients, comma-separated (Name <addr@example.com>, other@example.com)"},)j"
      R"j("subject":{"type":"string","maxLength":1000},)j"
      R"j("body":{"type":"string","maxLength":500000,"description":"Plain-text body"},)j"
      R"j("cc":{"type":"string","maxLength":10000,"description":"Cc recipients, comma-separated"},)j"
      R"j("bcc":{"type":"string","maxLength":10000,"description":"Bcc recipients, comma-separated (not shown to others)"},)j"
      R"j("inReplyTo":{"type":"string","maxLength":1000,"description":"Message-ID of the message this replies to"},)j"
      R"j("html":{"type":"string","maxLength":500000,"description":"Optional HTML version of the body"},)j"
      + attachments_arg
      + R"j(},"required":["to","subject","body"],"additionalProperties":false})j");
    auto send_output = keep(
      R"j({"type":"object","properties":{"success":{"type":"boolean"},"messageId":{"type":"string"},)j"
      R"j("sentFolder":{"type":["string","null"],"description":"Where a copy was saved"},)j"
      R"j("sentUid":{"type":["integer","null"]},"notice":{"type":"string"}},)j"
      R"j("required":["success","messageId","sentFolder"]})j");
    tools = {
      {"list_folders", "List folders",
       "List all mailbox folders in the email account (INBOX, Sent, Archive, "
       "Trash, ...), with their special use and optionally their message "
       "counts.",
       scope::folders, tool_hints{true, false, true, false}, list_input,
       list_output},
      {"list_messages", "List messages",
       "List email messages in a folder, newest first, a page at a time. "
       "Use nextCursor to page on reliably; use includeBody=true to get the "
       "start of each message's text inline and avoid separate read_message "
       "calls.",
       scope::read, tool_hints{true, false, true, false}, messages_input,
       messages_output},
      {"read_message", "Read messages",
       "Read email message(s) by UID: decoded headers, readable text (HTML "
       "converted) and the list of attachments. Use 'uids' to read up to 10 "
       "messages in one call. Long texts come in windows: pass nextOffset "
       "as offset to read on.",
       scope::read, tool_hints{true, false, true, false}, read_input,
       read_output},
      {"search_messages", "Search messages",
       "Search email messages in a folder by text, sender, recipient, dates "
       "(YYYY-MM-DD) and flags; all given criteria must match. Returns the "
       "newest matches first. Use includeBody=true to get the start of each "
       "message's text inline. folder \"*\" searches every folder (each "
       "message then names its folder).",
       scope::search, tool_hints{true, false, true, false}, search_input,
       search_output},
      {"move_message", "Move a message",
       "Move an email message to another folder (for example to Archive or "
       "Trash). The message gets a new UID there. Use 'uids' to move up to "
       "100 messages at once (one outcome per UID).",
       scope::modify, tool_hints{false, true, false, false}, move_input,
       move_output},
      {"flag_message", "Flag a message",
       "Set or remove flags on an email: read/unread (seen), star "
       "(flagged), answered, or marked for deletion (deleted). Use 'uids' "
       "to flag up to 100 messages at once (one outcome per UID).",
       scope::modify, tool_hints{false, true, true, false}, flag_input,
       flag_output},
      {"send_mail", "Send an email",
       "Send an email from this account over SMTP; a copy is saved to the "
       "Sent folder. Sending cannot be undone.",
       scope::send, tool_hints{false, false, false, true}, send_input,
       send_output},
    };
    add_organizing_tools();
    add_composing_tools();
    for (auto& t : tools) {
      auto doc = std::make_unique<rapidjson::Document>();
      doc->Parse(t.input_schema.data(), t.input_schema.size());
      if (doc->HasParseError())
        std::abort(); // a programming error in the literals above
      inputs.emplace(t.name, std::move(doc));
    }
  }
};

// The tools beyond the original that organize mail: conversations, folders,
// copy and safe delete.
void catalogue::add_organizing_tools() {
  auto folder_object
    = std::string{R"j({"type":"object","properties":{"name":{"type":"string"},)j"
                  R"j("path":{"type":"string"},"delimiter":{"type":["string","null"]},)j"
                  R"j("specialUse":{"type":["string","null"]},"selectable":{"type":"boolean"}},)j"
                  R"j("required":["name","path","delimiter","specialUse","selectable"]})j"};
  auto thread_input = keep(
    R"j({"type":"object","properties":{)j" + folder_arg + R"j(,"uid":)j"
    + uid_property + R"j(},"required":["uid"],"additionalProperties":false})j");
  auto thread_output = keep(
    R"j({"type":"object","properties":{"folder":{"type":"string"},"uid":{"type":"integer"},)j"
    R"j("method":{"type":"string","description":"THREAD=REFERENCES (threaded by the server) or headers (Message-ID/References/In-Reply-To search)"},)j"
    R"j("total":{"type":"integer","description":"Messages in the conversation; the newest 100 are listed"},)j"
    R"j("messages":{"type":"array","items":)j"
    + summary_schema()
    + R"j(},"truncated":{"type":"boolean"},"notice":{"type":"string"}},)j"
      R"j("required":["folder","uid","method","total","messages"]})j");
  auto new_folder_arg = std::string{
    R"j("folder":{"type":"string","minLength":1,"maxLength":1000,)j"
    R"j("description":"Full path of the folder, levels separated by the delimiter list_folders shows (e.g. Projects/2026)"})j"};
  auto create_input = keep(R"j({"type":"object","properties":{)j" + new_folder_arg
                           + R"j(},"required":["folder"],"additionalProperties":false})j");
  auto rename_input = keep(
    R"j({"type":"object","properties":{"folder":{"type":"string","minLength":1,"maxLength":1000,)j"
    R"j("description":"The folder to rename, as list_folders shows its path"},)j"
    R"j("newName":{"type":"string","minLength":1,"maxLength":1000,)j"
    R"j("description":"Its new full path (moving it elsewhere in the tree is allowed)"}},)j"
    R"j("required":["folder","newName"],"additionalProperties":false})j");
  auto delete_folder_input = keep(
    R"j({"type":"object","properties":{"folder":{"type":"string","minLength":1,"maxLength":1000,)j"
    R"j("description":"The folder to delete; it must be empty"}},)j"
    R"j("required":["folder"],"additionalProperties":false})j");
  auto folder_output = keep(
    R"j({"type":"object","properties":{"success":{"type":"boolean"},"message":{"type":"string"},)j"
    R"j("previousPath":{"type":"string"},"folder":)j"
    + folder_object + R"j(},"required":["success","message","folder"]})j");
  auto bulk_output = keep(
    R"j({"type":"object","properties":{"success":{"type":"boolean","description":"Whether every message succeeded"},)j"
    R"j("message":{"type":"string"},"folder":{"type":"string"},)j"
    R"j("destination":{"type":["string","null"],"description":"Where the messages went; null when deleted for good"},)j"
    R"j("deletedForGood":{"type":"boolean"},"results":)j"
    + results_property + R"j(},"required":["success","message","folder","destination","results"]})j");
  auto copy_input = keep(
    transfer_input("Folder the messages are in", "Folder to copy them to"));
  auto delete_input = keep(
    R"j({"type":"object","properties":{)j" + folder_arg + R"j(,"uid":)j" + uid_property
    + R"j(,"uids":)j" + uids_property
    + R"j(},"additionalProperties":false})j");
  tools.push_back(
    {"get_thread", "Get a conversation",
     "Get the whole conversation (thread) a message belongs to, oldest "
     "first, from one folder: the server's THREAD=REFERENCES when it has "
     "it, else a search of Message-ID, References and In-Reply-To. Then "
     "read_message with uids reads them.",
     scope::read, tool_hints{true, false, true, false}, thread_input,
     thread_output});
  tools.push_back(
    {"create_folder", "Create a folder",
     "Create a mail folder (use the delimiter list_folders shows for "
     "subfolders, e.g. Projects/2026). Any characters are fine; Postern "
     "encodes the name for the server.",
     scope::modify, tool_hints{false, false, false, false}, create_input,
     folder_output});
  tools.push_back(
    {"rename_folder", "Rename a folder",
     "Rename (or move within the folder tree) a mail folder. INBOX and "
     "special-use folders (Sent, Drafts, Trash, Junk, Archive, ...) cannot "
     "be renamed.",
     scope::modify, tool_hints{false, true, false, false}, rename_input,
     folder_output});
  tools.push_back(
    {"delete_folder", "Delete a folder",
     "Delete an empty mail folder. INBOX and special-use folders cannot be "
     "deleted, and a folder that still holds messages is refused: move or "
     "delete them first.",
     scope::modify, tool_hints{false, true, true, false}, delete_folder_input,
     folder_output});
  tools.push_back(
    {"delete_message", "Delete messages",
     "Delete email message(s) safely: they are moved to the Trash folder. "
     "Only messages already in Trash are removed for good (and only those "
     "UIDs, never other messages). Use 'uids' for up to 100 at once.",
     scope::modify, tool_hints{false, true, false, false}, delete_input,
     bulk_output});
  tools.push_back(
    {"copy_message", "Copy messages",
     "Copy email message(s) to another folder; the originals stay. Use "
     "'uids' for up to 100 at once.",
     scope::modify, tool_hints{false, false, false, false}, copy_input,
     bulk_output});
}

// The tools beyond the original that compose mail: attachments, replies,
// forwards and drafts.
void catalogue::add_composing_tools() {
  auto attachment_input = keep(
    R"j({"type":"object","properties":{)j" + folder_arg + R"j(,"uid":)j"
    + uid_property
    + R"j(,"partId":{"type":"string","minLength":1,"maxLength":100,)j"
      R"j("description":"partId of the attachment as read_message lists it, e.g. \"2\" or \"1.2\""}},)j"
      R"j("required":["uid","partId"],"additionalProperties":false})j");
  auto attachment_output = keep(
    R"j({"type":"object","properties":{"uid":{"type":"integer"},"folder":{"type":"string"},)j"
    R"j("partId":{"type":"string"},"mimeType":{"type":"string"},"filename":{"type":"string"},)j"
    R"j("kind":{"type":"string","enum":["image","text","file"],)j"
    R"j("description":"image: returned as image content; text: decoded in text; file: returned as an embedded resource (base64)"},)j"
    R"j("size":{"type":"integer","description":"Decoded size in bytes"},)j"
    R"j("text":{"type":"string","description":"The decoded text (kind text)"}},)j"
    R"j("required":["uid","folder","partId","mimeType","filename","kind","size"]})j");
  auto reply_input = keep(
    R"j({"type":"object","properties":{)j" + folder_arg + R"j(,"uid":)j"
    + uid_property + "," + compose_text_args + reply_all_arg + ","
    + quote_arg + "," + attachments_arg
    + R"j(},"required":["uid","body"],"additionalProperties":false})j");
  auto sent_output = keep(
    R"j({"type":"object","properties":{)j" + composed_properties()
    + R"j(,"sentFolder":{"type":["string","null"],"description":"Where a copy was saved"},)j"
      R"j("sentUid":{"type":["integer","null"]},"notice":{"type":"string"}},)j"
      R"j("required":["success","messageId","subject","to","cc","sentFolder"]})j");
  auto forward_input = keep(
    R"j({"type":"object","properties":{)j" + folder_arg + R"j(,"uid":)j"
    + uid_property
    + R"j(,"to":{"type":"string","minLength":1,"maxLength":10000,"description":"Recipients, comma-separated"},)j"
    + compose_text_args + attachments_arg
    + R"j(},"required":["uid","to"],"additionalProperties":false})j");
  auto draft_input = keep(
    R"j({"type":"object","properties":{)j"
    R"j("to":{"type":"string","maxLength":10000,"description":"Recipients, comma-separated (may be left for later)"},)j"
    R"j("subject":{"type":"string","maxLength":1000,"description":"Default for replies and forwards: Re:/Fwd: and the original's subject"},)j"
    + compose_text_args
    + R"j("inReplyTo":{"type":"string","maxLength":1000,"description":"Message-ID of the message this replies to"},)j"
      R"j("replyToUid":{"type":"integer","minimum":1,"maximum":4294967295,"description":"Make the draft a reply to this message (recipients, subject and threading derived)"},)j"
      R"j("forwardUid":{"type":"integer","minimum":1,"maximum":4294967295,"description":"Make the draft a forward of this message (its text and attachments included)"},)j"
      R"j("folder":{"type":"string","minLength":1,"maxLength":1000,"default":"INBOX","description":"Folder of replyToUid or forwardUid"},)j"
    + reply_all_arg + "," + quote_arg + "," + attachments_arg
    + R"j(},"additionalProperties":false})j");
  auto draft_output = keep(
    R"j({"type":"object","properties":{)j" + composed_properties()
    + R"j(,"draftsFolder":{"type":"string"},)j"
      R"j("uid":{"type":["integer","null"],"description":"The draft's UID in draftsFolder, if the server said"}},)j"
      R"j("required":["success","messageId","draftsFolder","uid"]})j");

  std::vector<tool_def> composing = {
    {"get_attachment", "Get an attachment",
     "Get one attachment of an email by UID and partId (from "
     "read_message's attachment list): images come back as images, "
     "text-like files as decoded text, anything else as an embedded "
     "resource (base64). Each kind has a size limit.",
     scope::read, tool_hints{true, false, true, false}, attachment_input,
     attachment_output},
    {"reply_message", "Reply to an email",
     "Reply to an email by UID: recipients (the sender, or everyone with "
     "replyAll), \"Re:\" subject and threading headers are derived from "
     "the original, which is quoted below the reply unless quoteOriginal "
     "is false. A copy is saved to Sent. Sending cannot be undone.",
     scope::send, tool_hints{false, false, false, true}, reply_input,
     sent_output},
    {"forward_message", "Forward an email",
     "Forward an email by UID to new recipients, with an optional note "
     "above it; its attachments are kept. A copy is saved to Sent. "
     "Sending cannot be undone.",
     scope::send, tool_hints{false, false, false, true}, forward_input,
     sent_output},
    {"save_draft", "Save a draft",
     "Save an email as a draft in the Drafts folder without sending it: a "
     "new message, a reply (replyToUid) or a forward (forwardUid). The "
     "person can review and send it from their mail client.",
     scope::draft, tool_hints{false, false, false, false}, draft_input,
     draft_output},
  };
  tools.insert(tools.end(), composing.begin(), composing.end());
}

const catalogue& the_catalogue() {
  static const catalogue instance;
  return instance;
}

// -- argument helpers ---------------------------------------------------------

std::string_view str(const rapidjson::Value& v) {
  return {v.GetString(), v.GetStringLength()};
}

const rapidjson::Value* arg(const rapidjson::Value* args, const char* name) {
  if (!args)
    return nullptr;
  auto i = args->FindMember(name);
  return i == args->MemberEnd() ? nullptr : &i->value;
}

std::string get_string(const rapidjson::Value* args, const char* name,
                       std::string fallback = {}) {
  auto v = arg(args, name);
  return v ? std::string{str(*v)} : fallback;
}

/// Integral JSON numbers (validated against the schema before) as int64.
int64_t get_int(const rapidjson::Value* args, const char* name,
                int64_t fallback) {
  auto v = arg(args, name);
  if (!v)
    return fallback;
  if (v->IsInt64())
    return v->GetInt64();
  if (v->IsUint64())
    return static_cast<int64_t>(v->GetUint64());
  return static_cast<int64_t>(v->GetDouble());
}

uint32_t as_uid(const rapidjson::Value& v) {
  if (v.IsUint64())
    return static_cast<uint32_t>(v.GetUint64());
  return static_cast<uint32_t>(v.GetDouble());
}

std::optional<bool> get_bool(const rapidjson::Value* args, const char* name) {
  auto v = arg(args, name);
  if (!v)
    return std::nullopt;
  return v->GetBool();
}

bool is_leap(int y) {
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/// Strict YYYY-MM-DD with a real calendar day.
bool valid_date(std::string_view s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-')
    return false;
  for (size_t i : {0u, 1u, 2u, 3u, 5u, 6u, 8u, 9u})
    if (s[i] < '0' || s[i] > '9')
      return false;
  auto num = [&](size_t at, size_t len) {
    int n = 0;
    for (size_t i = at; i < at + len; ++i)
      n = n * 10 + (s[i] - '0');
    return n;
  };
  int y = num(0, 4);
  int m = num(5, 2);
  int d = num(8, 2);
  static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (y < 1970 || y > 9999 || m < 1 || m > 12 || d < 1)
    return false;
  int max = days[m - 1] + (m == 2 && is_leap(y) ? 1 : 0);
  return d <= max;
}

/// The UIDs of `uids` (duplicates dropped, order kept) or else of `uid`;
/// `several` tells which. Empty when neither was given.
std::vector<uint32_t> uids_of(const rapidjson::Value* args, bool& several) {
  std::vector<uint32_t> result;
  several = false;
  if (auto list = arg(args, "uids")) {
    // With uids, uid is not needed (and ignored: agents written for the
    // original send uid because it was required).
    several = true;
    for (auto& v : list->GetArray()) {
      auto uid = as_uid(v);
      if (std::find(result.begin(), result.end(), uid) == result.end())
        result.push_back(uid);
    }
  } else if (auto one = arg(args, "uid")) {
    result.push_back(as_uid(*one));
  }
  return result;
}

parsed_arguments refuse(std::string sentence) {
  parsed_arguments r;
  r.error = std::move(sentence);
  return r;
}

parsed_arguments accept(tool_args args) {
  parsed_arguments r;
  r.args = std::move(args);
  return r;
}

caf::expected<std::vector<mime::address>>
addresses_of(const rapidjson::Value* args, const char* name) {
  auto text = get_string(args, name);
  if (text.find_first_not_of(" \t,") == std::string::npos)
    return std::vector<mime::address>{};
  return mime::parse_address_list(text);
}

/// Reads `attachments` (already checked against the schema) and decodes
/// them; returns a sentence naming the bad item, or nothing.
std::string read_attachments(const rapidjson::Value* args,
                             std::vector<mime::outgoing_attachment>& out) {
  auto list = arg(args, "attachments");
  if (!list)
    return {};
  size_t i = 0;
  for (auto& item : list->GetArray()) {
    auto where = "`attachments[" + std::to_string(i++) + "].";
    mime::outgoing_attachment a;
    a.filename = get_string(&item, "filename");
    if (!mime::is_valid_attachment_filename(a.filename))
      return where + "filename` " + quote(a.filename)
             + " must be a plain file name (no slashes, control characters, "
               "\".\" or \"..\")";
    a.content_type = mime::to_lower(get_string(&item, "contentType"));
    if (!mime::is_valid_media_type(a.content_type))
      return where + "contentType` " + quote(a.content_type)
             + " must be a media type like application/pdf";
    auto data = mime::decode_base64_strict(get_string(&item, "content"));
    if (!data)
      return where + "content` is not valid base64 (standard alphabet, "
                     "padded with = to a multiple of 4 characters)";
    a.data = std::move(*data);
    out.push_back(std::move(a));
  }
  return {};
}

/// Reads what send_mail and the composing tools share: recipients, subject,
/// text, HTML and attachments; returns a sentence naming the bad field, or
/// nothing.
std::string read_outgoing(const rapidjson::Value* args,
                          mime::outgoing_message& m) {
  for (auto [name, field] : {std::pair{"to", &m.to}, std::pair{"cc", &m.cc},
                             std::pair{"bcc", &m.bcc}}) {
    auto list = addresses_of(args, name);
    if (!list)
      return "`" + std::string{name} + "`: " + describe(list.error());
    *field = std::move(*list);
  }
  m.subject = get_string(args, "subject");
  m.text = get_string(args, "body");
  m.html = get_string(args, "html");
  return read_attachments(args, m.attachments);
}

/// The `inReplyTo` Message-ID, normalized; an error sentence if malformed.
std::string read_in_reply_to(const rapidjson::Value* args,
                             mime::outgoing_message& m) {
  if (auto reply = get_string(args, "inReplyTo"); !reply.empty()) {
    m.in_reply_to = mime::normalize_message_id(reply);
    if (m.in_reply_to.empty())
      return "`inReplyTo` must be a Message-ID like <id@example.com>, as "
             "messageId in list_messages shows it";
  }
  return {};
}

parsed_arguments parse_send(const rapidjson::Value* args) {
  send_mail_args result;
  auto& m = result.message;
  if (auto err = read_outgoing(args, m); !err.empty())
    return refuse(err);
  if (m.to.empty())
    return refuse("`to` must name at least one recipient, e.g. "
                  "\"alice@example.com\"");
  if (auto err = read_in_reply_to(args, m); !err.empty())
    return refuse(err);
  return accept(std::move(result));
}

/// reply_message, forward_message and save_draft.
parsed_arguments parse_compose(std::string_view tool,
                               const rapidjson::Value* args) {
  compose_args result;
  auto& r = result.request;
  if (auto err = read_outgoing(args, r.message); !err.empty())
    return refuse(err);
  r.folder = get_string(args, "folder", "INBOX");
  r.reply_all = get_bool(args, "replyAll").value_or(false);
  r.quote = get_bool(args, "quoteOriginal").value_or(true);
  if (tool == "reply_message") {
    r.kind = mime::compose_kind::reply;
    r.uid = as_uid(*arg(args, "uid"));
  } else if (tool == "forward_message") {
    r.kind = mime::compose_kind::forward;
    r.uid = as_uid(*arg(args, "uid"));
    if (r.message.to.empty())
      return refuse("`to` must name at least one recipient, e.g. "
                    "\"alice@example.com\"");
  } else {
    r.draft = true;
    auto reply = arg(args, "replyToUid");
    auto forward = arg(args, "forwardUid");
    if (reply && forward)
      return refuse("give `replyToUid` or `forwardUid`, not both");
    if (reply) {
      r.kind = mime::compose_kind::reply;
      r.uid = as_uid(*reply);
    } else if (forward) {
      r.kind = mime::compose_kind::forward;
      r.uid = as_uid(*forward);
    }
    if (!reply)
      for (auto name : {"replyAll", "quoteOriginal"})
        if (arg(args, name))
          return refuse("`" + std::string{name}
                        + "` only applies to replies (with `replyToUid`)");
    if ((reply || forward) && arg(args, "inReplyTo"))
      return refuse("`inReplyTo` is derived from the original with "
                    "`replyToUid` or `forwardUid`; leave it out");
    if (!reply && !forward && arg(args, "folder"))
      return refuse("`folder` names the folder of `replyToUid` or "
                    "`forwardUid`; leave it out for a new message");
    if (auto err = read_in_reply_to(args, r.message); !err.empty())
      return refuse(err);
  }
  return accept(std::move(result));
}

// -- result helpers -----------------------------------------------------------

void write_addresses(json_writer& w, const std::vector<mime::address>& list) {
  w.begin_array();
  for (auto& a : list)
    w.begin_object()
      .key("name")
      .string(a.name)
      .key("address")
      .string(a.address)
      .end_object();
  w.end_array();
}

void write_strings(json_writer& w, const std::vector<std::string>& list) {
  w.begin_array();
  for (auto& s : list)
    w.string(s);
  w.end_array();
}

void write_summary_fields(json_writer& w, const imap::message_summary& s) {
  w.key("uid").uinteger(s.uid);
  w.key("subject").string(s.subject.empty() ? "(no subject)" : s.subject);
  w.key("from");
  write_addresses(w, s.from);
  w.key("to");
  write_addresses(w, s.to);
  w.key("cc");
  write_addresses(w, s.cc);
  w.key("date").string_or_null(s.date);
  w.key("received").string_or_null(s.received);
  w.key("flags");
  write_strings(w, s.flags);
  w.key("size").uinteger(s.size);
  w.key("hasAttachments").boolean(s.has_attachments);
  w.key("messageId").string_or_null(s.message_id);
  w.key("inReplyTo").string_or_null(s.in_reply_to);
}

/// Finds the preview text of a UID in the read outcomes.
const imap::read_outcome*
preview_of(const std::vector<imap::read_outcome>* previews, uint32_t uid) {
  if (!previews)
    return nullptr;
  for (auto& o : *previews)
    if (o.uid == uid && !o.error)
      return &o;
  return nullptr;
}

/// Writes a list of summaries, shortening previews and then the list until
/// the whole document fits. `extra` writes the other members, `each(w, i)`
/// more members of message i, `preview_for(i)` its preview (or nullptr).
template <class Extra, class Each, class Preview>
std::string fit_summaries(const std::vector<imap::message_summary>& messages,
                          bool with_previews, const char* shorten_hint,
                          Extra extra, Each each, Preview preview_for) {
  size_t count = messages.size();
  size_t preview = preview_chars;
  for (;;) {
    json_writer w;
    w.begin_object().key("messages").begin_array();
    for (size_t i = 0; i < count; ++i) {
      auto& s = messages[i];
      w.begin_object();
      write_summary_fields(w, s);
      each(w, i);
      if (const imap::read_outcome* p = preview_for(i)) {
        auto text = prefix_code_points(p->msg.body, preview);
        w.key("body").string(text);
        w.key("bodyTruncated").boolean(text.size() < p->msg.body.size()
                                       || p->msg.truncated);
      }
      w.end_object();
    }
    w.end_array();
    extra(w);
    if (count < messages.size() || preview < preview_chars) {
      w.key("truncated").boolean(true);
      std::string notice = "Result shortened to stay under "
                           + std::to_string(max_result_chars)
                           + " characters: ";
      if (count < messages.size())
        notice += std::to_string(count) + " of "
                  + std::to_string(messages.size()) + " messages shown";
      else
        notice += "message previews cut to " + std::to_string(preview)
                  + " characters";
      notice += "; ";
      notice += shorten_hint;
      w.key("notice").string(notice);
    }
    w.end_object();
    auto json = w.str();
    auto size = count_code_points(json);
    if (size <= max_result_chars || count == 0)
      return json;
    if (with_previews && preview > 100) {
      preview /= 4;
      continue;
    }
    // Drop messages in proportion to the excess (at least one).
    auto keep = count * max_result_chars / size;
    count = std::min(count - 1, keep);
  }
}

template <class Extra>
std::string fit_summaries(const std::vector<imap::message_summary>& messages,
                          const std::vector<imap::read_outcome>* previews,
                          const char* shorten_hint, Extra extra) {
  return fit_summaries(
    messages, previews != nullptr, shorten_hint, extra,
    [](json_writer&, size_t) {},
    [&](size_t i) { return preview_of(previews, messages[i].uid); });
}

void write_folder(json_writer& w, const imap::folder& f) {
  auto leaf = std::string_view{f.name};
  if (!f.delimiter.empty())
    if (auto pos = leaf.rfind(f.delimiter); pos != std::string_view::npos)
      leaf = leaf.substr(pos + f.delimiter.size());
  w.begin_object()
    .key("name")
    .string(leaf)
    .key("path")
    .string(f.name)
    .key("delimiter")
    .string_or_null(f.delimiter)
    .key("specialUse")
    .string_or_null(f.special_use)
    .key("selectable")
    .boolean(f.selectable);
  if (f.has_counts)
    w.key("messages").uinteger(f.messages).key("unseen").uinteger(f.unseen);
  w.end_object();
}

void write_message_fields(json_writer& w, const imap::message& m,
                          std::string_view body, bool cut) {
  write_summary_fields(w, m.summary);
  w.key("replyTo");
  write_addresses(w, m.reply_to);
  w.key("bcc");
  write_addresses(w, m.bcc);
  w.key("references");
  write_strings(w, m.references);
  w.key("body").string(body);
  w.key("bodyFormat").string(m.body_format);
  w.key("bodyLength").uinteger(m.body_length);
  w.key("offset").uinteger(m.offset);
  bool truncated = cut || m.truncated;
  w.key("truncated").boolean(truncated);
  if (truncated) {
    auto next = m.offset + count_code_points(body);
    w.key("nextOffset").uinteger(next);
    w.key("notice").string(
      "The text continues (" + std::to_string(next) + " of "
      + std::to_string(m.body_length)
      + " characters shown so far): call read_message with uid="
      + std::to_string(m.summary.uid) + " and offset=" + std::to_string(next)
      + " to read on.");
  }
  w.key("incomplete").boolean(m.incomplete);
  w.key("attachments").begin_array();
  for (auto& a : m.attachments)
    w.begin_object()
      .key("partId")
      .string(a.part_id)
      .key("mimeType")
      .string(a.mime_type)
      .key("filename")
      .string(a.filename)
      .key("size")
      .uinteger(a.size)
      .key("disposition")
      .string(a.disposition)
      .key("contentId")
      .string(a.content_id)
      .end_object();
  w.end_array();
}

} // namespace

// -- catalogue ----------------------------------------------------------------

const std::vector<tool_def>& tool_catalogue() {
  return the_catalogue().tools;
}

const tool_def* find_tool(std::string_view name) {
  for (auto& t : tool_catalogue())
    if (t.name == name)
      return &t;
  return nullptr;
}

namespace {

std::string build_tools_list(scope_set scopes) {
  json_writer w;
  w.begin_object().key("tools").begin_array();
  for (auto& t : tool_catalogue()) {
    if (!has_scope(scopes, t.required))
      continue;
    w.begin_object()
      .key("name")
      .string(t.name)
      .key("title")
      .string(t.title)
      .key("description")
      .string(t.description)
      .key("inputSchema")
      .raw(t.input_schema)
      .key("outputSchema")
      .raw(t.output_schema)
      .key("annotations")
      .begin_object()
      // The 2025-03-26 schema had the title only here.
      .key("title")
      .string(t.title)
      .key("readOnlyHint")
      .boolean(t.hints.read_only)
      .key("destructiveHint")
      .boolean(t.hints.destructive)
      .key("idempotentHint")
      .boolean(t.hints.idempotent)
      .key("openWorldHint")
      .boolean(t.hints.open_world)
      .end_object()
      .end_object();
  }
  w.end_array().end_object();
  return w.str();
}

} // namespace

const std::string& tools_list_result(scope_set scopes) {
  // Every answer is one of 32: build them once (thread-safe static init).
  static const auto all = [] {
    std::vector<std::string> result;
    for (scope_set s = 0; s <= every_scope; ++s)
      result.push_back(build_tools_list(s));
    return result;
  }();
  return all[scopes & every_scope];
}

// -- arguments ----------------------------------------------------------------

parsed_arguments parse_arguments(const tool_def& tool,
                                 const rapidjson::Value* arguments) {
  static const rapidjson::Value empty_object{rapidjson::kObjectType};
  const rapidjson::Value* args = arguments ? arguments : &empty_object;
  auto& schema = *the_catalogue().inputs.at(tool.name);
  if (auto err = check_schema(schema, *args); !err.empty())
    return refuse("Invalid arguments for " + std::string{tool.name} + ": "
                  + err + ".");
  auto fail = [&](const std::string& sentence) {
    return refuse("Invalid arguments for " + std::string{tool.name} + ": "
                  + sentence + ".");
  };
  auto name = tool.name;
  if (name == "list_folders") {
    list_folders_args r;
    r.include_counts = get_bool(args, "includeCounts").value_or(false);
    return accept(r);
  }
  if (name == "list_messages") {
    list_messages_args r;
    r.folder = get_string(args, "folder", "INBOX");
    r.page.page = get_int(args, "page", 1);
    r.page.page_size = get_int(args, "pageSize", 20);
    r.page.cursor = get_string(args, "cursor");
    r.include_body = get_bool(args, "includeBody").value_or(false);
    return accept(std::move(r));
  }
  if (name == "read_message") {
    read_message_args r;
    r.folder = get_string(args, "folder", "INBOX");
    r.uids = uids_of(args, r.several);
    if (r.uids.empty())
      return fail("give `uid` (one message) or `uids` (up to 10)");
    r.window.offset = static_cast<uint64_t>(get_int(args, "offset", 0));
    auto per_message = static_cast<int64_t>(100000 / r.uids.size());
    r.window.max_length
      = static_cast<uint64_t>(get_int(args, "maxLength", per_message));
    return accept(std::move(r));
  }
  if (name == "search_messages") {
    search_messages_args r;
    r.folder = get_string(args, "folder", "INBOX");
    auto& q = r.query;
    q.query = get_string(args, "query");
    q.from = get_string(args, "from");
    q.to = get_string(args, "to");
    q.subject = get_string(args, "subject");
    q.body = get_string(args, "body");
    q.text = get_string(args, "text");
    q.since = get_string(args, "since");
    q.before = get_string(args, "before");
    for (auto [field, value] : {std::pair{"since", &q.since},
                                std::pair{"before", &q.before}})
      if (!value->empty() && !valid_date(*value))
        return fail("`" + std::string{field}
                    + "` must be a real date written YYYY-MM-DD, like "
                      "2026-01-31 (got "
                    + quote(*value) + ")");
    if (!q.since.empty() && !q.before.empty() && q.since >= q.before)
      return fail("`since` (" + q.since + ") must be before `before` ("
                  + q.before + "), or no message can match");
    q.unseen = get_bool(args, "unseen").value_or(false);
    q.flagged = get_bool(args, "flagged").value_or(false);
    q.answered = get_bool(args, "answered").value_or(false);
    q.limit = get_int(args, "limit", 20);
    r.include_body = get_bool(args, "includeBody").value_or(false);
    return accept(std::move(r));
  }
  if (name == "move_message") {
    move_message_args r;
    r.folder = get_string(args, "folder");
    r.destination = get_string(args, "destination");
    bool several = false;
    auto uids = uids_of(args, several);
    if (uids.empty())
      return fail("give `uid` (one message) or `uids` (up to 100)");
    if (r.folder == r.destination)
      return fail("`destination` is the folder the message is already in");
    if (several) {
      bulk_change_args b;
      b.several = true;
      b.request.kind = imap::bulk_kind::move;
      b.request.folder = r.folder;
      b.request.uids = std::move(uids);
      b.request.destination = r.destination;
      return accept(std::move(b));
    }
    r.uid = uids.front();
    return accept(std::move(r));
  }
  if (name == "flag_message") {
    flag_message_args r;
    r.folder = get_string(args, "folder", "INBOX");
    bool several = false;
    auto uids = uids_of(args, several);
    if (uids.empty())
      return fail("give `uid` (one message) or `uids` (up to 100)");
    r.uid = uids.front();
    bool any = false;
    for (auto [field, action] :
         {std::pair{"seen", &r.change.seen},
          std::pair{"flagged", &r.change.flagged},
          std::pair{"deleted", &r.change.deleted},
          std::pair{"answered", &r.change.answered}}) {
      if (auto v = get_bool(args, field)) {
        *action = *v ? imap::flag_action::add : imap::flag_action::remove;
        any = true;
      }
    }
    if (!any)
      return fail("give at least one of `seen`, `flagged`, `deleted` or "
                  "`answered` (true sets the flag, false clears it)");
    if (several) {
      bulk_change_args b;
      b.several = true;
      b.request.kind = imap::bulk_kind::flag;
      b.request.folder = r.folder;
      b.request.uids = std::move(uids);
      b.request.change = r.change;
      return accept(std::move(b));
    }
    return accept(std::move(r));
  }
  if (name == "get_thread") {
    get_thread_args r;
    r.folder = get_string(args, "folder", "INBOX");
    r.uid = as_uid(*arg(args, "uid"));
    return accept(std::move(r));
  }
  if (name == "create_folder" || name == "rename_folder"
      || name == "delete_folder") {
    folder_change_args r;
    r.change.action = name == "create_folder"   ? imap::folder_action::create
                      : name == "rename_folder" ? imap::folder_action::rename
                                                : imap::folder_action::remove;
    r.change.name = get_string(args, "folder");
    r.change.new_name = get_string(args, "newName");
    if (!mime::is_valid_utf8(r.change.name)
        || !mime::is_valid_utf8(r.change.new_name))
      return fail("folder names must be valid UTF-8");
    if (r.change.action == imap::folder_action::rename
        && r.change.name == r.change.new_name)
      return fail("`newName` is the folder's current name");
    return accept(std::move(r));
  }
  if (name == "delete_message" || name == "copy_message") {
    bulk_change_args r;
    r.request.kind = name == "copy_message" ? imap::bulk_kind::copy
                                            : imap::bulk_kind::remove;
    r.request.folder = get_string(args, "folder", "INBOX");
    r.request.destination = get_string(args, "destination");
    r.request.uids = uids_of(args, r.several);
    if (r.request.uids.empty())
      return fail("give `uid` (one message) or `uids` (up to 100)");
    if (r.request.kind == imap::bulk_kind::copy
        && r.request.folder == r.request.destination)
      return fail("`destination` is the folder the messages are already in");
    return accept(std::move(r));
  }
  if (name == "send_mail") {
    auto r = parse_send(args);
    if (!r.args)
      return fail(r.error);
    return r;
  }
  if (name == "get_attachment") {
    get_attachment_args r;
    r.folder = get_string(args, "folder", "INBOX");
    r.uid = as_uid(*arg(args, "uid"));
    r.part_id = get_string(args, "partId");
    // IMAP section numbers: "2", "1.2", "3.1.2".
    bool valid = !r.part_id.empty() && r.part_id.front() != '.'
                 && r.part_id.back() != '.'
                 && r.part_id.find("..") == std::string::npos
                 && r.part_id.find_first_not_of("0123456789.")
                      == std::string::npos;
    if (!valid)
      return fail("`partId` must be a part number like \"2\" or \"1.2\", "
                  "as read_message lists it (got "
                  + quote(r.part_id) + ")");
    return accept(std::move(r));
  }
  if (name == "reply_message" || name == "forward_message"
      || name == "save_draft") {
    auto r = parse_compose(name, args);
    if (!r.args)
      return fail(r.error);
    return r;
  }
  return refuse("Unknown tool " + std::string{name});
}

// -- results ------------------------------------------------------------------

std::string encode_folders(const std::vector<imap::folder>& folders) {
  size_t count = folders.size();
  for (;;) {
    json_writer w;
    w.begin_object().key("folders").begin_array();
    for (size_t i = 0; i < count; ++i)
      write_folder(w, folders[i]);
    w.end_array();
    if (count < folders.size())
      w.key("truncated")
        .boolean(true)
        .key("notice")
        .string("Only the first " + std::to_string(count) + " of "
                + std::to_string(folders.size())
                + " folders fit in one result.");
    w.end_object();
    auto json = w.str();
    auto size = count_code_points(json);
    if (size <= max_result_chars || count == 0)
      return json;
    count = std::min(count - 1, count * max_result_chars / size);
  }
}

std::string encode_page(const imap::message_page& page,
                        const std::vector<imap::read_outcome>* previews) {
  return fit_summaries(page.messages, previews,
                       "ask for a smaller pageSize, or continue with "
                       "nextCursor",
                       [&](json_writer& w) {
                         w.key("total").uinteger(page.total);
                         w.key("page").uinteger(page.page);
                         w.key("pageSize").uinteger(page.page_size);
                         if (!page.next_cursor.empty())
                           w.key("nextCursor").string(page.next_cursor);
                       });
}

std::string encode_search(const imap::search_result& result,
                          const std::vector<imap::read_outcome>* previews) {
  return fit_summaries(result.messages, previews,
                       "ask for a smaller limit or narrow the search",
                       [&](json_writer& w) {
                         w.key("total").uinteger(result.total);
                       });
}

std::string encode_read(const std::vector<imap::read_outcome>& outcomes,
                        bool several) {
  // How many characters of each body to keep; shrinks until it all fits.
  std::vector<size_t> keep;
  for (auto& o : outcomes)
    keep.push_back(o.error ? 0 : count_code_points(o.msg.body));
  for (;;) {
    json_writer w;
    if (several)
      w.begin_object().key("messages").begin_array();
    for (size_t i = 0; i < outcomes.size(); ++i) {
      auto& o = outcomes[i];
      if (o.error) {
        w.begin_object()
          .key("uid")
          .uinteger(o.uid)
          .key("error")
          .string(describe(o.error))
          .end_object();
        continue;
      }
      auto body = prefix_code_points(o.msg.body, keep[i]);
      w.begin_object();
      write_message_fields(w, o.msg, body, body.size() < o.msg.body.size());
      w.end_object();
    }
    if (several)
      w.end_array().end_object();
    auto json = w.str();
    auto size = count_code_points(json);
    if (size <= max_result_chars)
      return json;
    // Cut the longest body by the excess plus some room for the notice.
    auto longest = std::max_element(keep.begin(), keep.end());
    if (*longest == 0)
      return json; // headers alone are this big: nothing left to cut
    auto excess = size - max_result_chars + 300;
    *longest = *longest > excess ? *longest - excess : 0;
  }
}

std::string encode_move(const move_message_args& args,
                        const imap::move_result& result) {
  json_writer w;
  w.begin_object()
    .key("success")
    .boolean(true)
    .key("message")
    .string("Moved message " + std::to_string(args.uid) + " to "
            + result.destination)
    .key("uid")
    .uinteger(args.uid)
    .key("destination")
    .string(result.destination.empty() ? args.destination
                                       : result.destination)
    .key("newUid");
  if (result.new_uid != 0)
    w.uinteger(result.new_uid);
  else
    w.null();
  w.end_object();
  return w.str();
}

std::string encode_flag(const imap::flag_result& result) {
  json_writer w;
  w.begin_object().key("success").boolean(true).key("uid").uinteger(
    result.uid);
  w.key("added");
  write_strings(w, result.added);
  w.key("removed");
  write_strings(w, result.removed);
  w.key("flags");
  write_strings(w, result.flags);
  w.end_object();
  return w.str();
}

std::string encode_sent(std::string_view message_id,
                        std::string_view sent_folder, uint32_t sent_uid,
                        std::string_view save_error) {
  json_writer w;
  w.begin_object()
    .key("success")
    .boolean(true)
    .key("messageId")
    .string(message_id)
    .key("sentFolder")
    .string_or_null(sent_folder)
    .key("sentUid");
  if (sent_uid != 0)
    w.uinteger(sent_uid);
  else
    w.null();
  if (!save_error.empty())
    w.key("notice").string("The message was sent, but no copy could be "
                           "saved to the Sent folder: "
                           + std::string{save_error});
  w.end_object();
  return w.str();
}

std::string encode_thread(const get_thread_args& args,
                          const imap::thread_result& result) {
  return fit_summaries(result.messages, nullptr,
                       "read the messages with read_message instead",
                       [&](json_writer& w) {
                         w.key("folder").string(args.folder);
                         w.key("uid").uinteger(args.uid);
                         w.key("method").string(result.method);
                         w.key("total").uinteger(result.total);
                       });
}

std::string encode_folder_change(const imap::folder_change& change,
                                 const imap::folder& result) {
  json_writer w;
  std::string message;
  switch (change.action) {
    case imap::folder_action::create:
      message = "Created the folder \"" + result.name + "\"";
      break;
    case imap::folder_action::rename:
      message = "Renamed the folder \"" + change.name + "\" to \""
                + result.name + "\"";
      break;
    case imap::folder_action::remove:
      message = "Deleted the folder \"" + result.name + "\"";
      break;
  }
  w.begin_object().key("success").boolean(true).key("message").string(message);
  if (change.action == imap::folder_action::rename)
    w.key("previousPath").string(change.name);
  w.key("folder");
  write_folder(w, result);
  w.end_object();
  return w.str();
}

std::string bulk_failure(const imap::bulk_result& result) {
  if (result.outcomes.empty())
    return "No message was given.";
  for (auto& o : result.outcomes)
    if (!o.error)
      return {};
  // Nothing changed: the call failed. One reason, or the first and a count.
  auto first = describe(result.outcomes.front().error);
  if (result.outcomes.size() == 1)
    return first + ".";
  return "None of the " + std::to_string(result.outcomes.size())
         + " messages was changed: " + first + " (and "
         + std::to_string(result.outcomes.size() - 1) + " more).";
}

std::string encode_bulk(const imap::bulk_result& result) {
  size_t ok = 0;
  for (auto& o : result.outcomes)
    if (!o.error)
      ++ok;
  auto count = result.outcomes.size();
  auto messages = [](size_t n) {
    return std::to_string(n) + (n == 1 ? " message" : " messages");
  };
  std::string verb;
  bool for_good = result.kind == imap::bulk_kind::remove
                  && result.destination.empty();
  switch (result.kind) {
    case imap::bulk_kind::move:
      verb = "Moved " + messages(ok) + " to \"" + result.destination + "\"";
      break;
    case imap::bulk_kind::copy:
      verb = "Copied " + messages(ok) + " to \"" + result.destination + "\"";
      break;
    case imap::bulk_kind::flag:
      verb = "Changed the flags of " + messages(ok);
      break;
    case imap::bulk_kind::remove:
      verb = for_good ? "Deleted " + messages(ok) + " for good from \""
                          + result.folder + "\""
                      : "Moved " + messages(ok) + " to \"" + result.destination
                          + "\" (delete them there to remove them for good)";
      break;
  }
  if (ok < count)
    verb += "; " + messages(count - ok) + " failed (see results)";
  json_writer w;
  w.begin_object()
    .key("success")
    .boolean(ok == count)
    .key("message")
    .string(verb)
    .key("folder")
    .string(result.folder)
    .key("destination");
  if (result.kind == imap::bulk_kind::flag)
    w.string(result.folder);
  else
    w.string_or_null(result.destination);
  if (result.kind == imap::bulk_kind::remove)
    w.key("deletedForGood").boolean(for_good);
  if (result.kind == imap::bulk_kind::flag) {
    w.key("added");
    write_strings(w, result.added);
    w.key("removed");
    write_strings(w, result.removed);
  }
  w.key("results").begin_array();
  for (auto& o : result.outcomes) {
    w.begin_object().key("uid").uinteger(o.uid).key("success").boolean(!o.error);
    if (o.error) {
      w.key("error").string(describe(o.error));
    } else if (result.kind == imap::bulk_kind::flag) {
      w.key("flags");
      write_strings(w, o.flags);
    } else if (!for_good) {
      w.key("newUid");
      if (o.new_uid != 0)
        w.uinteger(o.new_uid);
      else
        w.null();
    }
    w.end_object();
  }
  w.end_array().end_object();
  return w.str();
}

std::string
encode_search_everywhere(const imap::multi_search_result& result,
                         const std::vector<imap::read_outcome>* previews) {
  std::vector<imap::message_summary> summaries;
  for (auto& m : result.messages)
    summaries.push_back(m.summary);
  return fit_summaries(
    summaries, previews != nullptr,
    "ask for a smaller limit or narrow the search",
    [&](json_writer& w) {
      w.key("total").uinteger(result.total);
      w.key("foldersSearched").uinteger(result.folders_searched);
      w.key("errors").begin_array();
      for (auto& e : result.errors)
        w.begin_object()
          .key("folder")
          .string(e.folder)
          .key("error")
          .string(e.error)
          .end_object();
      w.end_array();
    },
    [&](json_writer& w, size_t i) {
      w.key("folder").string(result.messages[i].folder);
    },
    [&](size_t i) -> const imap::read_outcome* {
      // One outcome per message, in order (UIDs repeat across folders).
      if (!previews || i >= previews->size() || (*previews)[i].error
          || (*previews)[i].uid != result.messages[i].summary.uid)
        return nullptr;
      return &(*previews)[i];
    });
}

std::string encode_attachment(const std::string& folder,
                              const mime::attachment_content& part) {
  json_writer w;
  w.begin_object()
    .key("uid")
    .uinteger(part.uid)
    .key("folder")
    .string(folder)
    .key("partId")
    .string(part.part_id)
    .key("mimeType")
    .string(part.mime_type)
    .key("filename")
    .string(part.filename)
    .key("kind")
    .string(mime::to_string(part.kind))
    .key("size")
    .uinteger(part.size);
  if (part.kind == mime::attachment_kind::text)
    w.key("text").string(part.data);
  w.end_object();
  return w.str();
}

std::string encode_composed(const mime::composed_message& result, bool draft) {
  json_writer w;
  w.begin_object()
    .key("success")
    .boolean(true)
    .key("messageId")
    .string(result.message_id)
    .key("subject")
    .string(result.subject)
    .key("to");
  write_addresses(w, result.to);
  w.key("cc");
  write_addresses(w, result.cc);
  w.key("inReplyTo").string_or_null(result.in_reply_to);
  w.key("references");
  write_strings(w, result.references);
  w.key("attachments");
  write_strings(w, result.attachments);
  if (draft) {
    w.key("draftsFolder").string(result.folder).key("uid");
  } else {
    w.key("sentFolder").string_or_null(result.folder).key("sentUid");
  }
  if (result.uid != 0)
    w.uinteger(result.uid);
  else
    w.null();
  if (!result.save_error.empty())
    w.key("notice").string("The message was sent, but no copy could be "
                           "saved to the Sent folder: "
                           + result.save_error);
  w.end_object();
  return w.str();
}

std::string attachment_result(const std::string& folder,
                              const mime::attachment_content& part) {
  auto structured = encode_attachment(folder, part);
  // Decoded text may grow when escaped for JSON; it must still fit in one
  // result like every other tool's (images and files have their own caps).
  if (count_code_points(structured) > max_result_chars)
    return tool_failure("Attachment " + part.part_id + " of message "
                        + std::to_string(part.uid) + " ("
                        + mime::format_size(part.size)
                        + " of text) is too long to return in one result.");
  json_writer w;
  w.begin_object()
    .key("content")
    .begin_array()
    .begin_object()
    .key("type")
    .string("text")
    .key("text")
    .string(structured)
    .end_object();
  if (part.kind == mime::attachment_kind::image) {
    w.begin_object()
      .key("type")
      .string("image")
      .key("data")
      .string(mime::encode_base64(part.data))
      .key("mimeType")
      .string(part.mime_type)
      .end_object();
  } else if (part.kind == mime::attachment_kind::file) {
    w.begin_object()
      .key("type")
      .string("resource")
      .key("resource")
      .begin_object()
      .key("uri")
      .string("attachment:///" + std::to_string(part.uid) + "/" + part.part_id)
      .key("mimeType")
      .string(part.mime_type)
      .key("blob")
      .string(mime::encode_base64(part.data))
      .end_object()
      .end_object();
  }
  w.end_array()
    .key("structuredContent")
    .raw(structured)
    .key("isError")
    .boolean(false)
    .end_object();
  return w.str();
}

std::string tool_success(std::string_view structured_json) {
  json_writer w;
  w.begin_object()
    .key("content")
    .begin_array()
    .begin_object()
    .key("type")
    .string("text")
    .key("text")
    .string(structured_json)
    .end_object()
    .end_array()
    .key("structuredContent")
    .raw(structured_json)
    .key("isError")
    .boolean(false)
    .end_object();
  return w.str();
}

std::string tool_failure(std::string_view sentence) {
  json_writer w;
  w.begin_object()
    .key("content")
    .begin_array()
    .begin_object()
    .key("type")
    .string("text")
    .key("text")
    .string(sentence)
    .end_object()
    .end_array()
    .key("isError")
    .boolean(true)
    .end_object();
  return w.str();
}

} // namespace postern::mcp
