// SPDX-License-Identifier: Apache-2.0
#include "writers.hpp"

namespace postern::mcp::detail {

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
  write_addresses(w.key("from"), s.from);
  write_addresses(w.key("to"), s.to);
  write_addresses(w.key("cc"), s.cc);
  w.key("date").string_or_null(s.date);
  w.key("received").string_or_null(s.received);
  write_strings(w.key("flags"), s.flags);
  w.key("size").uinteger(s.size);
  w.key("hasAttachments").boolean(s.has_attachments);
  w.key("messageId").string_or_null(s.message_id);
  w.key("inReplyTo").string_or_null(s.in_reply_to);
}

std::string call_result(std::string_view text, bool is_error,
                        const std::function<void(json_writer&)>& more) {
  json_writer w;
  w.begin_object()
    .key("content")
    .begin_array()
    .begin_object()
    .key("type")
    .string("text")
    .key("text");
  // A success's text mirrors its structuredContent, JSON of this process's
  // own writers; an error's is a sentence.
  if (is_error)
    w.string(text);
  else
    w.json_text(text);
  w.end_object();
  if (more)
    more(w);
  w.end_array();
  if (!is_error)
    w.key("structuredContent").raw(text);
  w.key("isError").boolean(is_error);
  w.end_object();
  return w.take();
}

void write_uid_or_null(json_writer& w, uint32_t uid) {
  if (uid != 0)
    w.uinteger(uid);
  else
    w.null();
}

const imap::read_outcome*
preview_of(const std::vector<imap::read_outcome>* previews, uint32_t uid) {
  if (!previews)
    return nullptr;
  for (auto& o : *previews)
    if (o.uid == uid && !o.error)
      return &o;
  return nullptr;
}

std::string shortened_notice(size_t shown, size_t total, size_t preview,
                             const char* shorten_hint) {
  std::string notice = "Result shortened to stay under "
                       + std::to_string(max_result_chars) + " characters: ";
  if (shown < total)
    notice += std::to_string(shown) + " of " + std::to_string(total)
              + " messages shown";
  else
    notice += "message previews cut to " + std::to_string(preview)
              + " characters";
  notice += "; ";
  notice += shorten_hint;
  return notice;
}

} // namespace postern::mcp::detail
