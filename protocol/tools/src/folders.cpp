// SPDX-License-Identifier: Apache-2.0
// The folder tools: list_folders, create_folder, rename_folder and
// delete_folder (schemas in schemas/<tool>.json).

#include "families.hpp"
#include "postern/mime/charset.hpp"
#include "writers.hpp"

namespace postern::mcp {

namespace detail {

parsed_arguments parse_list_folders(const tool_arguments& args) {
  list_folders_args r;
  r.include_counts = args.flag("includeCounts");
  return accept(r);
}

namespace {

parsed_arguments parse_folder_change(const tool_arguments& args,
                                     imap::folder_action action) {
  folder_change_args r;
  r.change.action = action;
  r.change.name = args.text("folder");
  r.change.new_name = args.text("newName");
  if (!mime::is_valid_utf8(r.change.name)
      || !mime::is_valid_utf8(r.change.new_name))
    return refuse("folder names must be valid UTF-8");
  if (action == imap::folder_action::rename
      && r.change.name == r.change.new_name)
    return refuse("`newName` is the folder's current name");
  return accept(std::move(r));
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

} // namespace

parsed_arguments parse_create_folder(const tool_arguments& args) {
  return parse_folder_change(args, imap::folder_action::create);
}

parsed_arguments parse_rename_folder(const tool_arguments& args) {
  return parse_folder_change(args, imap::folder_action::rename);
}

parsed_arguments parse_delete_folder(const tool_arguments& args) {
  return parse_folder_change(args, imap::folder_action::remove);
}

} // namespace detail

std::string encode_folders(const std::vector<imap::folder>& folders) {
  size_t count = folders.size();
  for (;;) {
    json_writer w;
    w.begin_object().key("folders").begin_array();
    for (size_t i = 0; i < count; ++i)
      detail::write_folder(w, folders[i]);
    w.end_array();
    if (count < folders.size())
      w.key("truncated")
        .boolean(true)
        .key("notice")
        .string("Only the first " + std::to_string(count) + " of "
                + std::to_string(folders.size())
                + " folders fit in one result.");
    w.end_object();
    auto json = w.take();
    auto size = count_code_points(json);
    if (size <= max_result_chars || count == 0)
      return json;
    count = std::min(count - 1, count * max_result_chars / size);
  }
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
      message = "Renamed the folder \"" + change.name + "\" to \"" + result.name
                + "\"";
      break;
    case imap::folder_action::remove:
      message = "Deleted the folder \"" + result.name + "\"";
      break;
  }
  w.begin_object().key("success").boolean(true).key("message").string(message);
  if (change.action == imap::folder_action::rename)
    w.key("previousPath").string(change.name);
  w.key("folder");
  detail::write_folder(w, result);
  w.end_object();
  return w.take();
}

} // namespace postern::mcp
