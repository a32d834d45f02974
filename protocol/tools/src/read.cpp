// SPDX-License-Identifier: Apache-2.0
// read_message: one message or several, in windows of text (schema in
// schemas/read_message.json).

#include "families.hpp"
#include "postern/error.hpp"
#include "postern/mcp/resources.hpp"
#include "writers.hpp"

namespace postern::mcp {

namespace detail {

namespace {


/// Where the messages of one answer are, to name them by postern:// URIs;
/// no URIs when `account` is empty.
struct place {
  std::string_view account;
  std::string_view folder;

  /// `uri` of message `uid` (and of its part `part_id`), if named at all.
  void write_uri(json_writer& w, uint32_t uid,
                 std::string_view part_id = {}) const {
    if (!account.empty())
      w.key("uri").string(to_uri(mail_resource{
        std::string{account}, std::string{folder}, uid, std::string{part_id}}));
  }
};

void write_attachment_list(json_writer& w, const imap::message& m,
                           const place& where) {
  w.key("attachments").begin_array();
  for (auto& a : m.attachments) {
    w.begin_object();
    where.write_uri(w, m.summary.uid, a.part_id);
    w.key("partId")
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
  }
  w.end_array();
}

void write_message_fields(json_writer& w, const imap::message& m,
                          std::string_view body, bool cut,
                          const place& where) {
  where.write_uri(w, m.summary.uid);
  write_summary_fields(w, m.summary);
  write_addresses(w.key("replyTo"), m.reply_to);
  write_addresses(w.key("bcc"), m.bcc);
  write_strings(w.key("references"), m.references);
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
  write_attachment_list(w, m, where);
}

/// The outcomes with each body cut to `keep[i]` characters.
std::string write_outcomes(const std::vector<imap::read_outcome>& outcomes,
                           const std::vector<size_t>& keep, bool several,
                           const place& where) {
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
    write_message_fields(w, o.msg, body, body.size() < o.msg.body.size(),
                         where);
    w.end_object();
  }
  if (several)
    w.end_array().end_object();
  return w.take();
}

} // namespace

parsed_arguments parse_read_message(const tool_arguments& args) {
  read_message_args r;
  r.folder = args.text("folder");
  r.uids = args.uids(r.several);
  if (r.uids.empty())
    return refuse("give `uid` (one message) or `uids` (up to 10)");
  r.window.offset = static_cast<uint64_t>(args.integer("offset"));
  auto per_message
    // Shared by the UIDs given, so it cannot be a schema default.
    = static_cast<int64_t>(text_per_call / r.uids.size());
  r.window.max_length
    = static_cast<uint64_t>(args.integer("maxLength", per_message));
  return accept(std::move(r));
}

} // namespace detail

std::string encode_read(const std::vector<imap::read_outcome>& outcomes,
                        bool several, std::string_view account,
                        std::string_view folder) {
  detail::place where{account, folder};
  // How many characters of each body to keep; shrinks until it all fits.
  std::vector<size_t> keep;
  for (auto& o : outcomes)
    keep.push_back(o.error ? 0 : count_code_points(o.msg.body));
  for (;;) {
    auto json = detail::write_outcomes(outcomes, keep, several, where);
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

} // namespace postern::mcp
