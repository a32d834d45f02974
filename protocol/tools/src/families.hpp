// SPDX-License-Identifier: Apache-2.0
#pragma once

// What the tool families (folders.cpp, list.cpp, read.cpp, search.cpp,
// organize.cpp, compose.cpp, attachment.cpp, accounts.cpp) give the one table in
// catalogue.cpp: an argument parser per tool. Each runs after the call's
// arguments passed the tool's input schema, and refuses with one sentence
// naming the field (catalogue.cpp adds "Invalid arguments for <tool>: ").

#include "postern/mcp/tool_arguments.hpp"
#include "postern/mcp/tools.hpp"

#include <string>

namespace postern::mcp::detail {

inline parsed_arguments refuse(std::string sentence) {
  parsed_arguments r;
  r.error = std::move(sentence);
  return r;
}

inline parsed_arguments accept(tool_args args) {
  parsed_arguments r;
  r.args = std::move(args);
  return r;
}

// -- folders.cpp --------------------------------------------------------------

parsed_arguments parse_list_folders(const tool_arguments& args);
parsed_arguments parse_create_folder(const tool_arguments& args);
parsed_arguments parse_rename_folder(const tool_arguments& args);
parsed_arguments parse_delete_folder(const tool_arguments& args);

// -- list.cpp -----------------------------------------------------------------

parsed_arguments parse_list_messages(const tool_arguments& args);
parsed_arguments parse_get_thread(const tool_arguments& args);

// -- read.cpp -----------------------------------------------------------------

parsed_arguments parse_read_message(const tool_arguments& args);

// -- search.cpp ---------------------------------------------------------------

parsed_arguments parse_search_messages(const tool_arguments& args);

// -- organize.cpp -------------------------------------------------------------

parsed_arguments parse_move_message(const tool_arguments& args);
parsed_arguments parse_flag_message(const tool_arguments& args);
parsed_arguments parse_delete_message(const tool_arguments& args);
parsed_arguments parse_copy_message(const tool_arguments& args);

// -- compose.cpp --------------------------------------------------------------

parsed_arguments parse_send_mail(const tool_arguments& args);
parsed_arguments parse_reply_message(const tool_arguments& args);
parsed_arguments parse_forward_message(const tool_arguments& args);
parsed_arguments parse_save_draft(const tool_arguments& args);

// -- attachment.cpp -----------------------------------------------------------

parsed_arguments parse_get_attachment(const tool_arguments& args);

/// IMAP section numbers: "2", "1.2", "3.1.2" (get_attachment, and the
/// attachments of sent mail given by reference).
bool is_part_number(const std::string& part_id);

// -- outbox.cpp ---------------------------------------------------------------

parsed_arguments parse_get_send_status(const tool_arguments& args);

// -- accounts.cpp -------------------------------------------------------------

parsed_arguments parse_list_accounts(const tool_arguments& args);

/// Adds the `account` property (and, when a call must name one, its entry
/// in `required`) to a tool's input schema.
void add_account_argument(rapidjson::Value& input_schema,
                          const account_menu& menu,
                          rapidjson::Document::AllocatorType& alloc);

} // namespace postern::mcp::detail
