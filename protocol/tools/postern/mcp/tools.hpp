// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "postern/grant.hpp"
#include "postern/imap/types.hpp"
#include "postern/mime/attachment.hpp"
#include "postern/mime/compose.hpp"
#include "postern/mime/message_builder.hpp"

#include <caf/error.hpp>

#include <rapidjson/document.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

// The mail tools: the seven of the TypeScript original (names, argument
// names and defaults kept for drop-in compatibility) and ten more. Their
// table is protocol/tools/src/catalogue.cpp; each family of tools has
// one file there with its argument parser and result encoders, and each tool
// one schema file in schemas/. All are pure functions. Executing a tool
// (asking the MAIL ROUTER) is the HTTP layer's job.

namespace postern::mcp {

/// Results stay below Claude.ai's limit of 150 000 characters; longer ones
/// are shortened with a `truncated` flag and a `notice` saying how to get
/// the rest.
inline constexpr size_t max_result_chars = 140000;

/// Characters of message text that `includeBody` adds per message.
inline constexpr size_t preview_chars = 2000;
/// Characters of text for all messages of one read_message call together,
/// when the caller gives no maxLength (and of a message read as a
/// resource): what fits in one result beside the headers.
inline constexpr uint64_t text_per_call = 100000;

/// MCP tool annotations, as they truly apply.
struct tool_hints {
  bool read_only = false;
  bool destructive = true;
  bool idempotent = false;
  bool open_world = true;
};

struct parsed_arguments;
class tool_arguments;

/// Converts arguments that passed the tool's input schema, or refuses them
/// with one sentence naming the field.
using parse_fn = parsed_arguments (*)(const tool_arguments&);

/// What tools/list shows about a tool, and how to read its arguments.
struct tool_def {
  std::string_view name;
  std::string_view title;
  std::string_view description;
  /// The scope a token needs to see and call it.
  scope required;
  tool_hints hints;
  /// True for list_accounts: any scope shows it, and it takes no
  /// `account` (every other tool works in one account and takes one).
  bool about_accounts = false;
  /// JSON Schema (JSON text) of the arguments and of structuredContent.
  std::string_view input_schema;
  std::string_view output_schema;
  parse_fn parse = nullptr;
};

/// Loads and checks every tool's schema file; the server calls it before
/// serving, so a malformed schema stops it at start.
caf::error check_tool_catalogue();

/// All tools, in a fixed order.
const std::vector<tool_def>& tool_catalogue();

/// The parsed input schema of a tool of the catalogue, or nullptr.
const rapidjson::Value* input_schema_of(const tool_def& tool);

/// The tool of that name, or nullptr.
const tool_def* find_tool(std::string_view name);

/// True when a token of these scopes sees and may call `tool`.
bool may_call(scope_set scopes, const tool_def& tool);

/// The result of tools/list ({"tools":[...]}) for a token's scopes,
/// without the `account` argument (built once per scope set).
const std::string& tools_list_result(scope_set scopes);

/// How tools/list offers a connection's accounts.
struct account_menu {
  /// What `account` may be: each account's label, then its address.
  std::vector<std::string> names;
  /// Several accounts and no default: every call must name one.
  bool required = false;

  /// The menu of a validated token's accounts.
  static account_menu of(const access_grant& grant);
};

/// tools/list for a token's scopes and accounts: every tool but
/// list_accounts gets an `account` argument whose enum is `menu.names`,
/// required when `menu.required`. Built once per distinct menu (a bounded
/// cache shared by every thread), so repeated calls cost a lookup.
std::shared_ptr<const std::string> tools_list_result(scope_set scopes,
                                                     const account_menu& menu);

// -- arguments ----------------------------------------------------------------

/// The folder of a tool call that names none. The schemas say it too (their
/// `default`, which the parser applies); a test keeps the two the same.
inline constexpr std::string_view default_folder = "INBOX";

struct list_folders_args {
  bool include_counts = false;
};

struct list_messages_args {
  std::string folder = std::string{default_folder};
  imap::page_request page;
  bool include_body = false;
};

struct read_message_args {
  std::string folder = std::string{default_folder};
  std::vector<uint32_t> uids;
  /// True when called with `uids` (answer with {"messages": [...]}).
  bool several = false;
  imap::read_options window;
};

struct search_messages_args {
  std::string folder = std::string{default_folder};
  imap::search_query query;
  bool include_body = false;
};

struct move_message_args {
  std::string folder;
  uint32_t uid = 0;
  std::string destination;
};

struct flag_message_args {
  std::string folder = std::string{default_folder};
  uint32_t uid = 0;
  imap::flag_change change;
};

/// get_thread.
struct get_thread_args {
  std::string folder = std::string{default_folder};
  uint32_t uid = 0;
};

/// create_folder, rename_folder, delete_folder.
struct folder_change_args {
  imap::folder_change change;
};

/// delete_message, copy_message, and move_message / flag_message called
/// with `uids`: one outcome per UID.
struct bulk_change_args {
  imap::bulk_request request;
  /// Called with `uids` (answer per UID) rather than `uid`.
  bool several = false;
};

/// The folder value of search_messages that searches every folder.
inline constexpr std::string_view every_folder = "*";

struct send_mail_args {
  /// Everything but the sender (the account's address).
  mime::outgoing_message message;
};

struct get_attachment_args {
  std::string folder = std::string{default_folder};
  uint32_t uid = 0;
  std::string part_id;
  /// A download link instead of the content (asLink).
  bool as_link = false;
};

/// reply_message, forward_message and save_draft.
struct compose_args {
  mime::compose_request request;
};

/// list_accounts (no arguments: it answers from the token alone).
struct list_accounts_args {};

/// get_send_status: where a message held for the person's yes stands.
struct get_send_status_args {
  std::string outbox_id;
};

using tool_args
  = std::variant<list_folders_args, list_messages_args, read_message_args,
                 search_messages_args, move_message_args, flag_message_args,
                 send_mail_args, get_thread_args, folder_change_args,
                 bulk_change_args, get_attachment_args, compose_args,
                 list_accounts_args, get_send_status_args>;

struct parsed_arguments {
  std::optional<tool_args> args;
  /// Why the arguments were refused: one sentence naming the field.
  std::string error;
  /// The `account` argument (a label or an address), empty when not given.
  std::string account;
};

/// Longest `account` argument (an email address may have 254 characters).
inline constexpr size_t max_account_name = 320;

/// Checks the arguments (nullptr when the call had none) against the
/// tool's schema and its further rules (`tool.parse`), and converts them.
/// `account` is taken out first (for every tool but list_accounts), so the
/// schema files need not name it.
parsed_arguments parse_arguments(const tool_def& tool,
                                 const rapidjson::Value* arguments);

// -- results ------------------------------------------------------------------

/// structuredContent of each tool (JSON text, always below
/// max_result_chars).
std::string encode_folders(const std::vector<imap::folder>& folders);

/// `previews`, when given, holds the read outcomes for includeBody.
std::string encode_page(const imap::message_page& page,
                        const std::vector<imap::read_outcome>* previews);
std::string encode_search(const imap::search_result& result,
                          const std::vector<imap::read_outcome>* previews);
/// With `account` (its id) given, each message and attachment carries its
/// postern:// `uri` (messages and parts are resources).
std::string encode_read(const std::vector<imap::read_outcome>& outcomes,
                        bool several, std::string_view account = {},
                        std::string_view folder = {});
std::string encode_move(const move_message_args& args,
                        const imap::move_result& result);
std::string encode_flag(const imap::flag_result& result);
/// list_accounts: the token's accounts and its scopes.
std::string encode_accounts(const access_grant& grant);

/// A message the sending tools did not send: it waits in the person's
/// outbox for their yes at `approve_url`.
struct held_notice {
  std::string outbox_id;
  std::string approve_url;
  /// Unix seconds.
  int64_t expires = 0;
};

/// send_mail; with `held`, the message waits for the person's yes; `from`
/// only when the agent chose the sender (else left out, as the original).
std::string encode_sent(std::string_view message_id, std::string_view from,
                        std::string_view sent_folder, uint32_t sent_uid,
                        std::string_view save_error,
                        const held_notice* held = nullptr);

/// get_send_status: the entry's status and what it was.
std::string encode_send_status(const outbox_entry& entry,
                               std::string_view approve_url);

std::string encode_thread(const get_thread_args& args,
                          const imap::thread_result& result);
std::string encode_folder_change(const imap::folder_change& change,
                                 const imap::folder& result);
std::string encode_bulk(const imap::bulk_result& result);
/// The sentence for a bulk change none of whose messages changed (then the
/// call is a tool error), or empty when at least one did.
std::string bulk_failure(const imap::bulk_result& result);
/// `previews`, when given, holds one read outcome per message, in order.
std::string
encode_search_everywhere(const imap::multi_search_result& result,
                         const std::vector<imap::read_outcome>* previews);

/// structuredContent of get_attachment: what the part is (and, for text,
/// the text itself); its postern:// `uri` when `account` (an id) is given.
std::string encode_attachment(const std::string& folder,
                              const mime::attachment_content& part,
                              std::string_view account = {});

/// structuredContent of reply_message, forward_message (sent) and
/// save_draft (`draft`).
std::string encode_composed(const mime::composed_message& result, bool draft,
                            const held_notice* held = nullptr);

/// The CallToolResult of get_attachment: the description as text and
/// structuredContent, then the image or embedded resource; an error result
/// when it would not fit in one result.
std::string attachment_result(const std::string& folder,
                              const mime::attachment_content& part,
                              std::string_view account = {});

/// A download link to one part (get_attachment with asLink, or a part above
/// the inline limits).
struct attachment_link {
  /// <BASE_URL>/files/<opaque>.
  std::string url;
  /// Unix seconds.
  int64_t expires_at = 0;
  /// Why a link instead of the content (a sentence), or empty when asked.
  std::string reason;
};

/// The CallToolResult of get_attachment as a link: the description as text
/// and structuredContent (kind "link", url, expiresAt), then a
/// resource_link the person can open.
std::string attachment_link_result(const std::string& folder,
                                   const mime::attachment_content& part,
                                   const attachment_link& link,
                                   std::string_view account = {});

/// A successful CallToolResult: the JSON as text content and as
/// structuredContent.
std::string tool_success(std::string_view structured_json);

/// A CallToolResult with isError: true and one sentence as text.
std::string tool_failure(std::string_view sentence);

} // namespace postern::mcp
