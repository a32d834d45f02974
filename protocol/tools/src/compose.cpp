// SPDX-License-Identifier: Apache-2.0
// The tools that write mail: send_mail, reply_message, forward_message and
// save_draft (schemas in schemas/<tool>.json).

#include "families.hpp"
#include "postern/error.hpp"
#include "postern/mime/charset.hpp"
#include "postern/mime/header.hpp"
#include "postern/mime/transfer_encoding.hpp"
#include "writers.hpp"

namespace postern::mcp {

namespace detail {

namespace {

constexpr const char* no_recipient
  = "`to` must name at least one recipient, e.g. \"alice@example.com\"";

caf::expected<std::vector<mime::address>>
addresses_of(const tool_arguments& args, const char* name) {
  auto text = args.text(name);
  if (text.find_first_not_of(" \t,") == std::string::npos)
    return std::vector<mime::address>{};
  return mime::parse_address_list(text);
}

/// Checks the file name and media type of an attachment, each only when
/// given or `required`; a sentence naming the bad field, or nothing.
std::string check_file_fields(const std::string& where,
                              const mime::outgoing_attachment& a,
                              bool required) {
  if ((required || !a.filename.empty())
      && !mime::is_valid_attachment_filename(a.filename))
    return where + "filename` " + quote(a.filename)
           + " must be a plain file name (no slashes, control characters, "
             "\".\" or \"..\")";
  if ((required || !a.content_type.empty())
      && !mime::is_valid_media_type(a.content_type))
    return where + "contentType` " + quote(a.content_type)
           + " must be a media type like application/pdf";
  return {};
}

/// Decodes one item of `attachments`: a file given as base64, or a
/// reference to a part of a message in the account (the schema has both
/// shapes in one object: which members go together is checked here). A
/// sentence naming its bad field, or nothing.
std::string read_attachment(const rapidjson::Value& item,
                            const std::string& where,
                            mime::outgoing_attachment& a) {
  a.filename = string_member(item, "filename");
  a.content_type = mime::to_lower(string_member(item, "contentType"));
  auto* uid = find_member(item, "fromUid");
  bool has_content = find_member(item, "content") != nullptr;
  if (uid != nullptr) {
    if (has_content)
      return where
             + "content` and `fromUid` cannot go together: give the "
               "file's bytes or a reference to a message's part, not both";
    if (find_member(item, "partId") == nullptr)
      return where
             + "partId` is needed with fromUid: the attachment's partId "
               "as read_message lists it, e.g. \"2\"";
    a.source_uid = as_uid(*uid);
    a.source_part = string_member(item, "partId");
    if (!is_part_number(a.source_part))
      return where + "partId` must be a part number like \"2\" or \"1.2\", "
             "as read_message lists it (got " + quote(a.source_part) + ")";
    a.source_folder = string_member(item, "folder");
    if (a.source_folder.empty())
      a.source_folder = "INBOX";
    return check_file_fields(where, a, false);
  }
  for (auto name : {"folder", "partId"})
    if (find_member(item, name) != nullptr)
      return where + name + "` belongs to a reference: give fromUid too";
  for (auto name : {"filename", "contentType", "content"})
    if (find_member(item, name) == nullptr)
      return where + name
             + "` is missing: an attachment is {filename, contentType, "
               "content} or {fromUid, folder, partId}";
  if (auto err = check_file_fields(where, a, true); !err.empty())
    return err;
  auto data = mime::decode_base64_strict(string_member(item, "content"));
  if (!data)
    return where
           + "content` is not valid base64 (standard alphabet, "
             "padded with = to a multiple of 4 characters)";
  a.data = std::move(*data);
  return {};
}

/// Reads `attachments` (already checked against the schema) and decodes
/// them; returns a sentence naming the bad item, or nothing.
std::string read_attachments(const tool_arguments& args,
                             std::vector<mime::outgoing_attachment>& out) {
  auto list = args.given("attachments");
  if (!list)
    return {};
  size_t i = 0;
  for (auto& item : list->GetArray()) {
    mime::outgoing_attachment a;
    auto where = "`attachments[" + std::to_string(i++) + "].";
    if (auto err = read_attachment(item, where, a); !err.empty())
      return err;
    out.push_back(std::move(a));
  }
  return {};
}

/// Reads what send_mail and the composing tools share: recipients, subject,
/// text, HTML and attachments; returns a sentence naming the bad field, or
/// nothing.
std::string read_outgoing(const tool_arguments& args,
                          mime::outgoing_message& m) {
  for (auto [name, field] : {std::pair{"to", &m.to}, std::pair{"cc", &m.cc},
                             std::pair{"bcc", &m.bcc}}) {
    auto list = addresses_of(args, name);
    if (!list)
      return "`" + std::string{name} + "`: " + describe(list.error());
    *field = std::move(*list);
  }
  if (auto from = args.text("from");
      from.find_first_not_of(" \t") != std::string::npos) {
    auto list = mime::parse_address_list(from);
    if (!list)
      return "`from`: " + describe(list.error());
    if (list->size() != 1)
      return "`from` must be one address, e.g. \"Alice <alice@example.com>\" "
             "(list_accounts shows the ones each account sends as)";
    m.from = std::move(list->front());
  }
  m.subject = args.text("subject");
  m.text = args.text("body");
  m.html = args.text("html");
  return read_attachments(args, m.attachments);
}

/// The `inReplyTo` Message-ID, normalized; an error sentence if malformed.
std::string read_in_reply_to(const tool_arguments& args,
                             mime::outgoing_message& m) {
  if (auto reply = args.text("inReplyTo"); !reply.empty()) {
    m.in_reply_to = mime::normalize_message_id(reply);
    if (m.in_reply_to.empty())
      return "`inReplyTo` must be a Message-ID like <id@example.com>, as "
             "messageId in list_messages shows it";
  }
  return {};
}

/// What reply_message, forward_message and save_draft share; a sentence
/// naming the bad field, or nothing.
std::string read_compose(const tool_arguments& args, mime::compose_request& r) {
  if (auto err = read_outgoing(args, r.message); !err.empty())
    return err;
  r.folder = args.text("folder");
  r.reply_all = args.flag("replyAll");
  r.quote = args.flag("quoteOriginal");
  return {};
}

/// save_draft's rules on what goes with a new message, a reply or a
/// forward; a sentence naming the bad field, or nothing.
std::string read_draft(const tool_arguments& args, mime::compose_request& r) {
  auto reply = args.given("replyToUid");
  auto forward = args.given("forwardUid");
  if (reply && forward)
    return "give `replyToUid` or `forwardUid`, not both";
  if (reply) {
    r.kind = mime::compose_kind::reply;
    r.uid = as_uid(*reply);
  } else if (forward) {
    r.kind = mime::compose_kind::forward;
    r.uid = as_uid(*forward);
  }
  if (!reply)
    for (auto name : {"replyAll", "quoteOriginal"})
      if (args.given(name))
        return "`" + std::string{name}
               + "` only applies to replies (with `replyToUid`)";
  if ((reply || forward) && args.given("inReplyTo"))
    return "`inReplyTo` is derived from the original with `replyToUid` or "
           "`forwardUid`; leave it out";
  if (!reply && !forward && args.given("folder"))
    return "`folder` names the folder of `replyToUid` or `forwardUid`; "
           "leave it out for a new message";
  return read_in_reply_to(args, r.message);
}

} // namespace

/// The notice of a message sent but not saved to Sent, when it was not.
parsed_arguments parse_send_mail(const tool_arguments& args) {
  send_mail_args result;
  auto& m = result.message;
  if (auto err = read_outgoing(args, m); !err.empty())
    return refuse(err);
  if (m.to.empty())
    return refuse(no_recipient);
  if (auto err = read_in_reply_to(args, m); !err.empty())
    return refuse(err);
  return accept(std::move(result));
}

namespace {

/// reply_message and forward_message: an answer to the message `uid`.
parsed_arguments parse_answer(const tool_arguments& args,
                              mime::compose_kind kind) {
  compose_args result;
  auto& r = result.request;
  if (auto err = read_compose(args, r); !err.empty())
    return refuse(err);
  r.kind = kind;
  r.uid = args.uid("uid");
  if (kind == mime::compose_kind::forward && r.message.to.empty())
    return refuse(no_recipient);
  return accept(std::move(result));
}

} // namespace

parsed_arguments parse_reply_message(const tool_arguments& args) {
  return parse_answer(args, mime::compose_kind::reply);
}

parsed_arguments parse_forward_message(const tool_arguments& args) {
  return parse_answer(args, mime::compose_kind::forward);
}

parsed_arguments parse_save_draft(const tool_arguments& args) {
  compose_args result;
  auto& r = result.request;
  if (auto err = read_compose(args, r); !err.empty())
    return refuse(err);
  r.draft = true;
  if (auto err = read_draft(args, r); !err.empty())
    return refuse(err);
  return accept(std::move(result));
}

} // namespace detail

std::string encode_sent(std::string_view message_id, std::string_view from,
                        std::string_view sent_folder, uint32_t sent_uid,
                        std::string_view save_error, const held_notice* held) {
  json_writer w;
  w.begin_object()
    .key("success")
    .boolean(true)
    .key("messageId")
    .string(message_id);
  // Only when asked for: without `from`, the original's answer unchanged.
  if (!from.empty())
    w.key("from").string(from);
  w.key("sentFolder")
    .string_or_null(sent_folder)
    .key("sentUid");
  detail::write_uid_or_null(w, sent_uid);
  detail::write_send_outcome(w, save_error, held);
  w.end_object();
  return w.take();
}

std::string encode_composed(const mime::composed_message& result, bool draft,
                            const held_notice* held) {
  json_writer w;
  w.begin_object()
    .key("success")
    .boolean(true)
    .key("messageId")
    .string(result.message_id)
    .key("from")
    .string(result.from)
    .key("subject")
    .string(result.subject)
    .key("to");
  detail::write_addresses(w, result.to);
  detail::write_addresses(w.key("cc"), result.cc);
  w.key("inReplyTo").string_or_null(result.in_reply_to);
  detail::write_strings(w.key("references"), result.references);
  detail::write_strings(w.key("attachments"), result.attachments);
  if (draft)
    w.key("draftsFolder").string(result.folder).key("uid");
  else
    w.key("sentFolder").string_or_null(result.folder).key("sentUid");
  detail::write_uid_or_null(w, result.uid);
  if (!draft)
    detail::write_send_outcome(w, result.save_error, held);
  w.end_object();
  return w.take();
}

} // namespace postern::mcp
