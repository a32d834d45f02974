// SPDX-License-Identifier: Apache-2.0
// The composing operations of imap::session: attachments handed to agents
// (get_attachment) and the originals of replies and forwards.
#include "etpan.hpp"
#include "net.hpp"
#include "postern/error.hpp"
#include "postern/imap/session.hpp"
#include "postern/mime/charset.hpp"
#include "postern/mime/header.hpp"
#include "postern/mime/transfer_encoding.hpp"

#include <algorithm>
#include <map>
#include <optional>

namespace postern::imap {

using namespace detail;

namespace {

/// The part with IMAP section `id`; a message that is not multipart has its
/// only part at "1" (RFC 3501 6.4.5).
const mime::part* find_part(const mime::part& p, std::string_view id,
                            int depth = 0) {
  if (depth > 20)
    return nullptr;
  if (p.section == id
      || (p.section.empty() && p.type != "multipart" && id == "1"))
    return &p;
  for (auto& child : p.children)
    if (auto found = find_part(child, id, depth + 1))
      return found;
  return nullptr;
}

/// The decoded size the server's (encoded) size stands for, generously: a
/// part is refused before fetching only when it is surely too large.
uint64_t decoded_size_at_least(const mime::part& p) {
  if (mime::iequals(p.encoding, "base64"))
    return p.size / 4 * 3 * 97 / 100;
  if (mime::iequals(p.encoding, "quoted-printable"))
    return p.size / 3;
  return p.size;
}

/// The most transfer-encoded bytes `decoded` bytes can take (base64 with
/// line breaks, quoted-printable at its worst), plus room for slack.
uint64_t encoded_bound(uint64_t decoded, std::string_view encoding) {
  if (mime::iequals(encoding, "base64"))
    return decoded / 57 * 78 + 4096;
  if (mime::iequals(encoding, "quoted-printable"))
    return decoded * 3 + 4096;
  return decoded + decoded / 16 + 4096; // line ends may be converted
}

caf::error too_large(std::string_view what, uint64_t size, uint64_t limit,
                     std::string_view kind) {
  return caf::make_error(ec::too_large,
                         std::string{what} + " is " + mime::format_size(size)
                           + ", more than the " + mime::format_size(limit)
                           + " this server hands out for " + std::string{kind}
                           + " attachments");
}

std::string filename_of(const mime::part& p) {
  if (auto name = mime::find_parameter(p.disposition_params, "filename"))
    return *name;
  if (auto name = mime::find_parameter(p.params, "name"))
    return *name;
  return {};
}

// -- partial FETCHes of sections
// ------------------------------------------------

/// How many bytes one partial FETCH asks of one section (`chunk`) and of all
/// its sections together (`round`).
struct fetch_sizes {
  uint64_t chunk = 0;
  uint64_t round = 0;
};

/// The sizes for `budget`: a chunk fits in one literal and leaves room in
/// one response; a round asks for a few chunks, still within the response
/// budget.
fetch_sizes fetch_sizes_within(const budget_limits& budget,
                               uint64_t fetch_chunk_bytes) {
  auto chunk = fetch_chunk_bytes;
  if (budget.max_literal != 0)
    chunk = std::min(chunk, budget.max_literal);
  if (budget.max_response != 0)
    chunk = std::min(chunk, budget.max_response / 2);
  chunk = std::max<uint64_t>(chunk, 4096);
  auto round_bytes = 4 * chunk;
  if (budget.max_response != 0)
    round_bytes = std::max(chunk,
                           std::min(round_bytes, budget.max_response / 2));
  return {chunk, round_bytes};
}

/// A section being fetched.
struct section_progress {
  std::string section;
  uint64_t want; // max + 1: one byte more tells whether there is more
  bool done = false;
};

using section_bodies = std::map<std::string, std::string>;

/// Adds to `type` the next chunk of each unfinished section, as many as fit
/// a round; answers how many bytes each section is asked for.
std::map<std::string, uint64_t>
ask_next_chunks(const std::vector<section_progress>& todo,
                section_bodies& bodies, const fetch_sizes& sizes,
                mailimap_fetch_type* type) {
  std::map<std::string, uint64_t> asked;
  uint64_t round = 0;
  for (auto& w : todo) {
    if (w.done)
      continue;
    auto have = bodies[w.section].size();
    auto length = std::min<uint64_t>(sizes.chunk, w.want - have);
    if (round > 0 && round + length > sizes.round)
      break;
    mailimap_fetch_type_new_fetch_att_list_add(type, body_peek(w.section, have,
                                                               length));
    asked[w.section] = length;
    round += length;
  }
  return asked;
}

/// Appends the section bytes of one FETCH answer to `bodies` and adds their
/// count to `total`; answers how many bytes each section got.
std::map<std::string, uint64_t>
take_chunks(clist* list, const std::map<std::string, uint64_t>& asked,
            section_bodies& bodies, uint64_t& total) {
  std::map<std::string, uint64_t> got;
  for (auto* msg : items<mailimap_msg_att>(list))
    for (auto* item : items<mailimap_msg_att_item>(msg->att_list)) {
      if (item->att_type != MAILIMAP_MSG_ATT_ITEM_STATIC
          || item->att_data.att_static == nullptr
          || item->att_data.att_static->att_type
               != MAILIMAP_MSG_ATT_BODY_SECTION)
        continue;
      auto* sec = item->att_data.att_static->att_data.att_body_section;
      if (sec == nullptr)
        continue;
      auto id = section_of(sec->sec_section);
      auto i = asked.find(id);
      if (i == asked.end() || got.count(id) != 0)
        continue; // not asked for in this round (or twice)
      // A server sending more than asked for gets no more than that.
      auto n = sec->sec_body_part == nullptr
                 ? uint64_t{0}
                 : std::min<uint64_t>(sec->sec_length, i->second);
      if (n > 0)
        bodies[id].append(sec->sec_body_part, static_cast<size_t>(n));
      got[id] = n;
      total += n;
    }
  return got;
}

/// Marks the sections of a round that are complete: a short (or missing)
/// chunk is the end of the part, and so is reaching `want`.
void mark_finished(std::vector<section_progress>& todo,
                   const std::map<std::string, uint64_t>& asked,
                   const std::map<std::string, uint64_t>& got,
                   section_bodies& bodies) {
  for (auto& w : todo) {
    auto i = asked.find(w.section);
    if (i == asked.end())
      continue;
    auto g = got.find(w.section);
    if (g == got.end() || g->second < i->second
        || bodies[w.section].size() >= w.want)
      w.done = true;
  }
}

} // namespace

caf::expected<mime::part> session::fetch_structure(uint32_t uid,
                                                   const std::string& folder) {
  auto missing = caf::make_error(ec::no_such_message,
                                 "There is no message with UID "
                                   + std::to_string(uid) + " in the folder \""
                                   + mime::to_valid_utf8(folder) + "\"");
  // UID 0 does not exist, and libetpan would send it as "*" (the last one).
  if (uid == 0)
    return missing;
  fetch_type_ptr type{mailimap_fetch_type_new_fetch_att_list_empty()};
  mailimap_fetch_type_new_fetch_att_list_add(type.get(),
                                             mailimap_fetch_att_new_uid());
  mailimap_fetch_type_new_fetch_att_list_add(
    type.get(), mailimap_fetch_att_new_bodystructure());
  clist* raw = nullptr;
  auto err = uid_fetch_one(uid, type.get(), "fetch the message's structure",
                           &raw);
  fetch_list_ptr list{raw};
  if (err)
    return err;
  for (auto* msg : items<mailimap_msg_att>(list.get())) {
    uint32_t got = 0;
    std::optional<mime::part> structure;
    for (auto* item : items<mailimap_msg_att_item>(msg->att_list)) {
      if (item->att_type != MAILIMAP_MSG_ATT_ITEM_STATIC
          || item->att_data.att_static == nullptr)
        continue;
      auto* st = item->att_data.att_static;
      if (st->att_type == MAILIMAP_MSG_ATT_UID)
        got = st->att_data.att_uid;
      else if (st->att_type == MAILIMAP_MSG_ATT_BODYSTRUCTURE)
        structure = convert_body(st->att_data.att_bodystructure,
                                 options_.max_parts);
    }
    // A FETCH may carry unsolicited updates of other messages.
    if (got == uid && structure)
      return std::move(*structure);
  }
  return missing;
}

caf::error session::uid_fetch_one(uint32_t uid, mailimap_fetch_type* type,
                                  std::string_view action, clist** list) {
  set_ptr set{mailimap_set_new_single(uid)};
  start_call();
  auto rc = mailimap_uid_fetch(imap_, set.get(), type, list);
  if (rc != MAILIMAP_NO_ERROR)
    return command_error(rc, action);
  return {};
}

caf::expected<session::fetched_sections>
session::fetch_sections(uint32_t uid,
                        const std::vector<section_request>& sections,
                        uint64_t total_max) {
  fetched_sections result;
  auto sizes = fetch_sizes_within(options_.budget, options_.fetch_chunk_bytes);
  std::vector<section_progress> todo;
  for (auto& r : sections) {
    if (result.bodies.count(r.section) != 0)
      continue;
    result.bodies[r.section];
    todo.push_back({r.section, r.max + 1});
  }
  uint64_t total = 0;
  for (;;) {
    fetch_type_ptr type{mailimap_fetch_type_new_fetch_att_list_empty()};
    auto asked = ask_next_chunks(todo, result.bodies, sizes, type.get());
    if (asked.empty())
      break;
    clist* raw = nullptr;
    auto err = uid_fetch_one(uid, type.get(), "fetch the message's parts",
                             &raw);
    fetch_list_ptr list{raw};
    if (err)
      return err;
    auto got = take_chunks(list.get(), asked, result.bodies, total);
    mark_finished(todo, asked, got, result.bodies);
    if (total_max != 0 && total > total_max)
      return caf::make_error(
        ec::too_large, "The parts of message " + std::to_string(uid)
                         + " are more than " + mime::format_size(total_max));
  }
  for (auto& w : todo) {
    auto& body = result.bodies[w.section];
    if (body.size() >= w.want) {
      body.resize(static_cast<size_t>(w.want - 1));
      result.more[w.section] = true;
    }
  }
  return result;
}

caf::expected<mime::attachment_content>
session::fetch_attachment(const std::string& folder, uint32_t uid,
                          const std::string& part_id,
                          const mime::attachment_limits& limits) {
  deadline_guard deadline{canceller_, options_.operation_timeout};
  if (uid != 0)
    if (auto err = select(folder))
      return err;
  auto structure = fetch_structure(uid, folder);
  if (!structure)
    return std::move(structure.error());
  auto* p = find_part(*structure, part_id);
  if (p == nullptr || p->type == "multipart") {
    std::string known;
    for (auto& a : mime::plan_body(*structure).attachments)
      known += (known.empty() ? "" : ", ") + a.part_id;
    return caf::make_error(
      ec::no_such_part,
      "Message " + std::to_string(uid) + " has no attachment with part id \""
        + mime::to_valid_utf8(part_id) + "\""
        + (known.empty()
             ? std::string{"; it has no attachments"}
             : "; its attachments are " + known + " (partId in read_message)"));
  }
  mime::attachment_content result;
  result.uid = uid;
  result.part_id = part_id;
  result.mime_type = p->type + "/" + p->subtype;
  result.filename = filename_of(*p);
  result.kind = mime::kind_of(result.mime_type);
  auto limit = limits.of(result.kind);
  auto what = "Attachment " + part_id + " of message " + std::to_string(uid);
  auto kind = mime::to_string(result.kind);
  if (limits.describe_only) {
    result.size = decoded_size_at_least(*p);
    return result;
  }
  if (auto at_least = decoded_size_at_least(*p); at_least > limit)
    return too_large(what, at_least, limit, kind);
  // Read up to what the limit can need once encoded, in chunks; the size
  // the server announced only ever refuses, never allocates.
  auto fetched_part
    = fetch_sections(uid, {{part_id, encoded_bound(limit, p->encoding)}});
  if (!fetched_part)
    return std::move(fetched_part.error());
  auto& bodies = fetched_part->bodies;
  auto i = bodies.find(part_id);
  if (i == bodies.end())
    return caf::make_error(ec::server_refused,
                           "The IMAP server did not return part " + part_id
                             + " of message " + std::to_string(uid));
  if (fetched_part->more.count(part_id) != 0)
    return caf::make_error(
      ec::too_large, what + " is more than the " + mime::format_size(limit)
                       + " this server hands out for " + std::string{kind}
                       + " attachments");
  auto bytes = mime::decode_transfer_encoding(i->second, p->encoding);
  result.size = bytes.size();
  if (result.size > limit)
    return too_large(what, result.size, limit, kind);
  auto charset = mime::find_parameter(p->params, "charset");
  if (charset && result.kind == mime::attachment_kind::text)
    result.charset = *charset;
  if (result.kind == mime::attachment_kind::text && !limits.raw) {
    result.data = mime::normalize_line_ends(
      mime::to_utf8(bytes, charset ? *charset : std::string{}));
  } else {
    result.data = std::move(bytes);
  }
  return result;
}

caf::expected<mime::original_message>
session::fetch_original(const std::string& folder, uint32_t uid,
                        bool with_files, uint64_t max_file_bytes) {
  deadline_guard deadline{canceller_, options_.operation_timeout};
  auto read = read_message(folder, uid);
  if (!read)
    return std::move(read.error());
  mime::original_message result;
  auto& m = *read;
  result.from = m.summary.from;
  result.to = m.summary.to;
  result.cc = m.summary.cc;
  result.reply_to = m.reply_to;
  result.subject = m.summary.subject;
  result.date = m.summary.date;
  result.message_id = m.summary.message_id;
  result.references = m.references;
  result.text = m.body;
  if (!with_files || m.attachments.empty())
    return result;
  auto structure = fetch_structure(uid, folder);
  if (!structure)
    return std::move(structure.error());
  std::vector<section_request> sections;
  uint64_t estimate = 0;
  auto each_max = encoded_bound(max_file_bytes, "base64");
  for (auto& a : m.attachments) {
    sections.push_back({a.part_id, each_max});
    estimate += a.size;
  }
  if (estimate > max_file_bytes)
    return caf::make_error(
      ec::too_large, "The attachments of message " + std::to_string(uid)
                       + " are about " + mime::format_size(estimate)
                       + ", more than the " + mime::format_size(max_file_bytes)
                       + " a message may carry here");
  auto too_many = caf::make_error(
    ec::too_large, "The attachments of message " + std::to_string(uid)
                     + " are more than the " + mime::format_size(max_file_bytes)
                     + " a message may carry here");
  auto fetched_parts = fetch_sections(uid, sections, each_max);
  if (!fetched_parts) {
    if (fetched_parts.error() == ec::too_large)
      return too_many;
    return std::move(fetched_parts.error());
  }
  if (!fetched_parts->more.empty())
    return too_many;
  auto* bodies = &fetched_parts->bodies;
  uint64_t total = 0;
  for (auto& a : m.attachments) {
    auto* p = find_part(*structure, a.part_id);
    auto i = bodies->find(a.part_id);
    if (p == nullptr || i == bodies->end())
      continue;
    mime::outgoing_attachment file;
    file.data = mime::decode_transfer_encoding(i->second, p->encoding);
    total += file.data.size();
    file.content_type = mime::is_valid_media_type(a.mime_type)
                          ? a.mime_type
                          : std::string{"application/octet-stream"};
    file.filename = mime::safe_attachment_filename(
      a.filename, "attachment-" + a.part_id
                    + (a.mime_type == "message/rfc822" ? ".eml" : ".bin"));
    // The bytes go on as they are, so their charset goes with them.
    if (auto charset = mime::find_parameter(p->params, "charset");
        charset && mime::kind_of(file.content_type) == mime::attachment_kind::text)
      file.charset = *charset;
    result.attachments.push_back(std::move(file));
  }
  if (total > max_file_bytes)
    return caf::make_error(
      ec::too_large, "The attachments of message " + std::to_string(uid)
                       + " are " + mime::format_size(total) + ", more than the "
                       + mime::format_size(max_file_bytes)
                       + " a message may carry here");
  return result;
}

} // namespace postern::imap
