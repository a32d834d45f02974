// SPDX-License-Identifier: Apache-2.0
// The listing tools: list_messages (a page of a folder) and get_thread (a
// conversation); schemas in schemas/<tool>.json.

#include "families.hpp"
#include "writers.hpp"

namespace postern::mcp {

namespace detail {

parsed_arguments parse_list_messages(const tool_arguments& args) {
  list_messages_args r;
  r.folder = args.text("folder");
  r.page.page = args.integer("page");
  r.page.page_size = args.integer("pageSize");
  r.page.cursor = args.text("cursor");
  r.include_body = args.flag("includeBody");
  return accept(std::move(r));
}

parsed_arguments parse_get_thread(const tool_arguments& args) {
  get_thread_args r;
  r.folder = args.text("folder");
  r.uid = args.uid("uid");
  return accept(std::move(r));
}

} // namespace detail

std::string encode_page(const imap::message_page& page,
                        const std::vector<imap::read_outcome>* previews) {
  return detail::fit_summaries(page.messages, previews,
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

std::string encode_thread(const get_thread_args& args,
                          const imap::thread_result& result) {
  return detail::fit_found(
    result.messages, false, "read the messages with read_message instead",
    [&](json_writer& w) {
      w.key("folder").string(args.folder);
      w.key("uid").uinteger(args.uid);
      w.key("method").string(result.method);
      w.key("total").uinteger(result.total);
    },
    [](size_t) -> const imap::read_outcome* { return nullptr; });
}

} // namespace postern::mcp
