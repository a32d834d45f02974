// SPDX-License-Identifier: Apache-2.0
// The message operations of imap::session: list, read, move, flag, append
// (the searches are in search.cpp, the bulk changes in message_changes.cpp).
#include "etpan.hpp"
#include "fetched.hpp"
#include "net.hpp"
#include "postern/error.hpp"
#include "postern/imap/mailbox_name.hpp"
#include "postern/imap/query.hpp"
#include "postern/imap/session.hpp"
#include "postern/mime/charset.hpp"
#include "postern/mime/header.hpp"

#include <algorithm>
#include <map>
#include <unordered_map>

namespace postern::imap {

using namespace detail;

namespace {

std::string first_message_id(const char* text) {
  if (text == nullptr)
    return {};
  auto ids = parse_references(std::string{":"} + text);
  return ids.empty() ? std::string{} : ids.front();
}

void apply_envelope(const mailimap_envelope* env, message_summary& s,
                    std::vector<address>& reply_to, std::vector<address>& bcc) {
  if (env == nullptr)
    return;
  s.subject = mime::decode_header(str(env->env_subject));
  s.date = rfc5322_date_to_iso8601(str(env->env_date));
  if (env->env_from != nullptr)
    s.from = convert_addresses(env->env_from->frm_list);
  if (env->env_to != nullptr)
    s.to = convert_addresses(env->env_to->to_list);
  if (env->env_cc != nullptr)
    s.cc = convert_addresses(env->env_cc->cc_list);
  if (env->env_reply_to != nullptr)
    reply_to = convert_addresses(env->env_reply_to->rt_list);
  if (env->env_bcc != nullptr)
    bcc = convert_addresses(env->env_bcc->bcc_list);
  s.message_id = first_message_id(env->env_message_id);
  s.in_reply_to = first_message_id(env->env_in_reply_to);
}

/// A FETCH type asking for UID and FLAGS, which every FETCH here starts with
/// (FETCH (UID FLAGS) alone is written by hand: flags_fetch.cpp).
fetch_type_ptr uid_and_flags() {
  fetch_type_ptr type{mailimap_fetch_type_new_fetch_att_list_empty()};
  mailimap_fetch_type_new_fetch_att_list_add(type.get(),
                                             mailimap_fetch_att_new_uid());
  mailimap_fetch_type_new_fetch_att_list_add(type.get(),
                                             mailimap_fetch_att_new_flags());
  return type;
}

/// UID FETCH or FETCH of `set`; the answer goes to `list`.
int run_fetch(mailimap* imap, mailimap_set* set, bool by_uid,
              mailimap_fetch_type* type, fetch_list_ptr& list) {
  clist* raw = nullptr;
  auto rc = by_uid ? mailimap_uid_fetch(imap, set, type, &raw)
                   : mailimap_fetch(imap, set, type, &raw);
  list.reset(raw);
  return rc;
}

/// Fills in what read_messages answers for a message: its facts, and the
/// slice of its text that `options` asks for.
void fill_message(message& m, const message_facts& f, mime::body_plan plan,
                  const std::string& text, bool html,
                  const read_options& options) {
  m.summary = f.summary;
  m.reply_to = f.reply_to;
  m.bcc = f.bcc;
  m.references = f.references;
  m.attachments = std::move(plan.attachments);
  m.body_format = text.empty() ? "" : html ? "text/html" : "text/plain";
  m.body_length = mime::count_code_points(text);
  m.offset = std::min<uint64_t>(options.offset, m.body_length);
  auto available = m.body_length - m.offset;
  auto length = options.max_length == 0
                  ? available
                  : std::min<uint64_t>(options.max_length, available);
  m.body = std::string{mime::slice_code_points(text, m.offset, length)};
  m.truncated = m.offset + length < m.body_length;
}

} // namespace

caf::expected<std::vector<session::fetched>>
session::fetch_summaries(mailimap_set* set, bool by_uid, bool with_references) {
  auto type = uid_and_flags();
  mailimap_fetch_type_new_fetch_att_list_add(type.get(),
                                             mailimap_fetch_att_new_envelope());
  mailimap_fetch_type_new_fetch_att_list_add(
    type.get(), mailimap_fetch_att_new_rfc822_size());
  mailimap_fetch_type_new_fetch_att_list_add(
    type.get(), mailimap_fetch_att_new_internaldate());
  mailimap_fetch_type_new_fetch_att_list_add(
    type.get(), mailimap_fetch_att_new_bodystructure());
  if (with_references)
    mailimap_fetch_type_new_fetch_att_list_add(type.get(), references_peek());
  fetch_list_ptr list;
  start_call();
  if (auto rc = run_fetch(imap_, set, by_uid, type.get(), list);
      rc != MAILIMAP_NO_ERROR)
    return command_error(rc, "fetch the messages");
  std::vector<fetched> result;
  for (auto* msg : items<mailimap_msg_att>(list.get())) {
    fetched f;
    f.seq = msg->att_number;
    for (auto* item : items<mailimap_msg_att_item>(msg->att_list)) {
      if (item->att_type == MAILIMAP_MSG_ATT_ITEM_DYNAMIC) {
        f.summary.flags = convert_flags(item->att_data.att_dyn);
        continue;
      }
      if (item->att_type != MAILIMAP_MSG_ATT_ITEM_STATIC
          || item->att_data.att_static == nullptr)
        continue;
      auto* st = item->att_data.att_static;
      switch (st->att_type) {
        case MAILIMAP_MSG_ATT_UID:
          f.summary.uid = st->att_data.att_uid;
          break;
        case MAILIMAP_MSG_ATT_ENVELOPE:
          apply_envelope(st->att_data.att_env, f.summary, f.reply_to, f.bcc);
          break;
        case MAILIMAP_MSG_ATT_RFC822_SIZE:
          f.summary.size = st->att_data.att_rfc822_size;
          break;
        case MAILIMAP_MSG_ATT_INTERNALDATE:
          f.summary.received
            = convert_date_time(st->att_data.att_internal_date);
          break;
        case MAILIMAP_MSG_ATT_BODYSTRUCTURE:
          f.structure = convert_body(st->att_data.att_bodystructure,
                                     options_.max_parts);
          f.summary.has_attachments = mime::has_attachments(f.structure);
          break;
        case MAILIMAP_MSG_ATT_BODY_SECTION:
          if (auto* sec = st->att_data.att_body_section;
              sec != nullptr && sec->sec_body_part != nullptr)
            f.references = parse_references(
              std::string_view{sec->sec_body_part, sec->sec_length});
          break;
        default:
          break;
      }
    }
    // A FETCH may carry unsolicited updates of other messages (flags only).
    if (f.summary.uid != 0 && !f.structure.type.empty())
      result.push_back(std::move(f));
  }
  return result;
}

caf::expected<std::vector<session::fetched>>
session::cached_summaries(const std::vector<flagged>& messages,
                          bool with_structure) {
  // Facts from the cache; one FETCH for the ones it lacks. A listing copies
  // only the summaries out of the cache.
  std::vector<fetched> result(messages.size());
  std::vector<uint32_t> missing;
  std::unordered_map<uint32_t, size_t> slot;
  auto prefix = message_cache::key_prefix(options_.cache_account, selected_,
                                          uid_validity_);
  std::string key;
  for (size_t i = 0; i < messages.size(); ++i) {
    auto& m = messages[i];
    key.assign(prefix).append(std::to_string(m.uid));
    if (auto facts = options_.cache->facts(key)) {
      if (with_structure)
        static_cast<message_facts&>(result[i]) = *facts;
      else
        result[i].summary = facts->summary;
    } else {
      missing.push_back(m.uid);
      slot.emplace(m.uid, i);
    }
    result[i].seq = m.seq;
  }
  if (!missing.empty()) {
    auto set = uid_set(missing);
    auto fetched_now = fetch_summaries(set.get(), true, true);
    if (!fetched_now)
      return std::move(fetched_now.error());
    for (auto& f : *fetched_now) {
      auto i = slot.find(f.summary.uid);
      if (i == slot.end())
        continue;
      options_.cache->put_facts(prefix + std::to_string(f.summary.uid), f);
      auto seq = result[i->second].seq;
      result[i->second] = std::move(f);
      result[i->second].seq = seq;
    }
  }
  // Flags are always the server's current ones. A message expunged between
  // the two FETCHes has no facts: it is left out.
  std::vector<fetched> complete;
  complete.reserve(result.size());
  for (size_t i = 0; i < result.size(); ++i) {
    if (result[i].summary.uid == 0)
      continue;
    result[i].summary.flags = messages[i].flags;
    complete.push_back(std::move(result[i]));
  }
  return complete;
}

// -- listing ------------------------------------------------------------------

caf::expected<uint32_t> session::count_uids_from(uint32_t uid) {
  // "UID n:*" also matches the newest message when n is above every UID,
  // hence the filter.
  set_ptr set{mailimap_set_new_interval(uid, 0)};
  search_key_ptr key{mailimap_search_key_new_uid(set.release())};
  auto found = uid_search(key.get(), "continue the listing");
  if (!found)
    return std::move(found.error());
  return static_cast<uint32_t>(std::count_if(
    found->begin(), found->end(), [uid](uint32_t u) { return u >= uid; }));
}

caf::expected<std::vector<session::fetched>>
session::page_summaries(uint32_t first, uint32_t last) {
  set_ptr seqs{mailimap_set_new_interval(first, last)};
  if (!options_.cache)
    return fetch_summaries(seqs.get(), false, false);
  // UIDs and flags only; envelopes and structures mostly from the cache.
  auto current = fetch_flags(seqs.get(), false);
  if (!current)
    return std::move(current.error());
  // A FETCH may carry unsolicited updates of other messages.
  current->erase(std::remove_if(current->begin(), current->end(),
                                [&](const flagged& f) {
                                  return f.seq < first || f.seq > last;
                                }),
                 current->end());
  return cached_summaries(*current, false);
}

caf::expected<message_page>
session::list_messages(const std::string& folder, const page_request& request) {
  deadline_guard deadline{canceller_, options_.operation_timeout};
  message_page page;
  page.page_size = clamp_page_size(request.page_size);
  cursor position;
  if (!request.cursor.empty()) {
    auto c = decode_cursor(folder, request.cursor);
    if (!c)
      return std::move(c.error());
    position = *c;
    page.page_size = position.page_size;
  }
  if (auto err = select(folder))
    return err;
  if (position.before_uid != 0 && position.uid_validity != uid_validity_)
    return caf::make_error(ec::invalid_argument,
                           "The folder \"" + mime::to_valid_utf8(folder)
                             + "\" was rebuilt on the server since this "
                               "cursor was made; list it again without a "
                               "cursor");
  sequence_range range;
  if (position.before_uid == 0) {
    page.page = clamp_page(request.page);
    page.total = imap_->imap_selection_info->sel_exists;
    range = page_range(page.total, page.page, page.page_size);
  } else {
    // Messages with UIDs at or above the cursor are the highest sequence
    // numbers; the page continues right below them.
    auto above = count_uids_from(position.before_uid);
    if (!above)
      return std::move(above.error());
    page.total = imap_->imap_selection_info->sel_exists;
    page.page = *above / page.page_size + 1;
    if (*above < page.total) {
      range.last = page.total - *above;
      range.first
        = range.last > page.page_size ? range.last - page.page_size + 1 : 1;
    }
  }
  if (range.empty())
    return page;
  auto summaries = page_summaries(range.first, range.last);
  if (!summaries)
    return std::move(summaries.error());
  for (auto& f : *summaries)
    if (position.before_uid == 0 || f.summary.uid < position.before_uid)
      page.messages.push_back(std::move(f.summary));
  std::sort(page.messages.begin(), page.messages.end(),
            [](auto& x, auto& y) { return x.uid > y.uid; });
  if (range.first > 1 && !page.messages.empty())
    page.next_cursor = encode_cursor(
      folder, cursor{uid_validity_, page.messages.back().uid, page.page_size});
  return page;
}

// -- reading ------------------------------------------------------------------

caf::expected<std::string> session::fetch_text(uint32_t uid,
                                               const mime::body_plan& plan,
                                               bool& incomplete, bool& html) {
  // Every text part is read up to the limit, whatever size the server
  // announced for it; only what it really sends decides `incomplete`.
  std::vector<section_request> sections;
  for (auto& step : plan.steps) {
    if (step.section.empty())
      continue;
    html = html || step.html;
    sections.push_back({step.section, options_.max_text_part_bytes});
  }
  auto fetched_parts = fetch_sections(uid, sections);
  if (!fetched_parts)
    return std::move(fetched_parts.error());
  incomplete = incomplete || !fetched_parts->more.empty();
  auto* bodies = &fetched_parts->bodies;
  std::string text;
  for (auto& step : plan.steps) {
    std::string piece;
    if (step.section.empty()) {
      piece = step.literal;
    } else if (auto i = bodies->find(step.section); i != bodies->end()) {
      piece = mime::decode_text(i->second, step);
    }
    while (!piece.empty() && piece.back() == '\n')
      piece.pop_back();
    if (piece.empty())
      continue;
    if (!text.empty())
      text += "\n\n";
    text += piece;
  }
  return text;
}

caf::expected<std::vector<session::fetched>>
session::read_summaries(std::vector<uint32_t> uids) {
  auto set = uid_set(uids);
  if (!options_.cache)
    return fetch_summaries(set.get(), true, true);
  auto current = fetch_flags(set.get(), true);
  if (!current)
    return std::move(current.error());
  std::sort(uids.begin(), uids.end());
  current->erase(std::remove_if(current->begin(), current->end(),
                                [&](const flagged& f) {
                                  return !std::binary_search(uids.begin(),
                                                             uids.end(), f.uid);
                                }),
                 current->end());
  return cached_summaries(*current, true);
}

caf::expected<std::string> session::cached_text(uint32_t uid,
                                                const mime::body_plan& plan,
                                                bool& incomplete, bool& html) {
  if (!options_.cache)
    return fetch_text(uid, plan, incomplete, html);
  // The text of (account, mailbox, UIDVALIDITY, UID) never changes: a
  // cached copy saves fetching and decoding its parts.
  auto key = message_cache::key(options_.cache_account, selected_,
                                uid_validity_, uid);
  if (auto cached = options_.cache->text(key)) {
    html = cached->html;
    incomplete = cached->incomplete;
    return std::move(cached->text);
  }
  auto text = fetch_text(uid, plan, incomplete, html);
  if (text)
    options_.cache->put_text(key, decoded_text{*text, html, incomplete});
  return text;
}

caf::expected<std::vector<read_outcome>>
session::read_messages(const std::string& folder,
                       const std::vector<uint32_t>& uids,
                       const read_options& options) {
  deadline_guard deadline{canceller_, options_.operation_timeout};
  if (auto err = select(folder))
    return err;
  std::vector<uint32_t> valid;
  for (auto uid : uids)
    if (uid != 0)
      valid.push_back(uid);
  std::unordered_map<uint32_t, fetched> found;
  if (!valid.empty()) {
    auto list = read_summaries(std::move(valid));
    if (!list)
      return std::move(list.error());
    for (auto& f : *list)
      found.emplace(f.summary.uid, std::move(f));
  }
  std::vector<read_outcome> result;
  for (auto uid : uids) {
    read_outcome out;
    out.uid = uid;
    auto i = found.find(uid);
    if (i == found.end()) {
      out.error = no_such_message(uid, folder);
      result.push_back(std::move(out));
      continue;
    }
    auto& f = i->second;
    auto plan = mime::plan_body(f.structure);
    bool html = false;
    auto text = cached_text(uid, plan, out.msg.incomplete, html);
    if (!text) {
      if (!usable_)
        return std::move(text.error());
      out.error = std::move(text.error());
      result.push_back(std::move(out));
      continue;
    }
    fill_message(out.msg, f, std::move(plan), *text, html, options);
    result.push_back(std::move(out));
  }
  return result;
}

caf::expected<message> session::read_message(const std::string& folder,
                                             uint32_t uid,
                                             const read_options& options) {
  auto outcomes = read_messages(folder, {uid}, options);
  if (!outcomes)
    return std::move(outcomes.error());
  auto& out = outcomes->front();
  if (out.error)
    return std::move(out.error);
  return std::move(out.msg);
}

// -- changing -----------------------------------------------------------------

caf::expected<bulk_result> session::change_one(const bulk_request& request) {
  auto changed = change_messages(request);
  if (!changed)
    return std::move(changed.error());
  if (auto& out = changed->outcomes.front(); out.error)
    return std::move(out.error);
  return changed;
}

caf::expected<move_result> session::move(const std::string& folder,
                                         uint32_t uid,
                                         const std::string& destination) {
  auto moved = change_one({bulk_kind::move, folder, {uid}, destination, {}});
  if (!moved)
    return std::move(moved.error());
  return move_result{uid, destination, moved->outcomes.front().new_uid};
}

caf::expected<flag_result> session::set_flags(const std::string& folder,
                                              uint32_t uid,
                                              const flag_change& change) {
  auto changed = change_one({bulk_kind::flag, folder, {uid}, {}, change});
  if (!changed)
    return std::move(changed.error());
  return flag_result{uid, std::move(changed->added),
                     std::move(changed->removed),
                     std::move(changed->outcomes.front().flags)};
}

caf::expected<append_result>
session::append(const std::string& folder, std::string_view data,
                const std::vector<std::string>& flags) {
  deadline_guard deadline{canceller_, options_.operation_timeout};
  if (auto err = check_usable())
    return err;
  flag_list_ptr list{mailimap_flag_list_new_empty()};
  for (auto& name : flags) {
    mailimap_flag* f = nullptr;
    if (mime::iequals(name, "\\Seen"))
      f = mailimap_flag_new_seen();
    else if (mime::iequals(name, "\\Answered"))
      f = mailimap_flag_new_answered();
    else if (mime::iequals(name, "\\Flagged"))
      f = mailimap_flag_new_flagged();
    else if (mime::iequals(name, "\\Draft"))
      f = mailimap_flag_new_draft();
    else if (mime::iequals(name, "\\Deleted"))
      f = mailimap_flag_new_deleted();
    else if (!name.empty() && name[0] != '\\')
      f = mailimap_flag_new_flag_keyword(strdup(name.c_str()));
    if (f != nullptr)
      mailimap_flag_list_add(list.get(), f);
  }
  auto target = wire_mailbox_name(folder);
  append_result result;
  result.folder = folder;
  start_call();
  int rc;
  if (caps_.uidplus) {
    uint32_t validity = 0;
    uint32_t uid = 0;
    rc = mailimap_uidplus_append(imap_, target.c_str(), list.get(), nullptr,
                                 data.data(), data.size(), &validity, &uid);
    result.uid = uid;
  } else {
    rc = mailimap_append(imap_, target.c_str(), list.get(), nullptr,
                         data.data(), data.size());
  }
  if (rc != MAILIMAP_NO_ERROR)
    return folder_error(folder, rc,
                        "save the message in the folder \"" + folder + "\"");
  return result;
}

} // namespace postern::imap
