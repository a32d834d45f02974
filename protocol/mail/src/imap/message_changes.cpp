// SPDX-License-Identifier: Apache-2.0
// The bulk message changes of imap::session: move, copy, flag or delete
// several messages of one folder, with an outcome per UID.
#include "etpan.hpp"
#include "fetched.hpp"
#include "net.hpp"
#include "postern/error.hpp"
#include "postern/imap/mailbox_name.hpp"
#include "postern/imap/session.hpp"

#include <algorithm>
#include <unordered_set>

namespace postern::imap {

using namespace detail;

namespace {

/// Names the flags a flag change adds and removes, as its answer lists
/// them (the same for every UID, so once per request).
void name_flag_changes(const flag_change& change, bulk_result& result) {
  auto name = [&](flag_action a, const char* flag) {
    if (a == flag_action::add)
      result.added.emplace_back(flag);
    else if (a == flag_action::remove)
      result.removed.emplace_back(flag);
  };
  name(change.seen, "\\Seen");
  name(change.flagged, "\\Flagged");
  name(change.answered, "\\Answered");
  name(change.deleted, "\\Deleted");
}

/// Gives every requested UID its outcome, in the order asked (an error for
/// the ones not in the folder), and answers the UIDs to change, each once.
std::vector<uint32_t> sort_out_targets(const bulk_request& req,
                                       const std::vector<uint32_t>& present,
                                       bulk_result& result) {
  std::unordered_set<uint32_t> here{present.begin(), present.end()};
  std::vector<uint32_t> targets;
  for (auto uid : req.uids) {
    bulk_outcome out;
    out.uid = uid;
    if (here.count(uid) == 0)
      out.error = no_such_message(uid, req.folder);
    else if (std::find(targets.begin(), targets.end(), uid) == targets.end())
      targets.push_back(uid);
    result.outcomes.push_back(std::move(out));
  }
  return targets;
}

} // namespace

caf::expected<std::vector<uint32_t>>
session::existing_uids(const std::vector<uint32_t>& uids) {
  std::vector<uint32_t> wanted;
  for (auto uid : uids)
    if (uid != 0)
      wanted.push_back(uid);
  std::vector<uint32_t> result;
  if (wanted.empty())
    return result;
  // MOVE, COPY and STORE answer OK for UIDs that do not exist: ask first.
  auto set = uid_set(wanted);
  auto found = fetch_flags(set.get(), true);
  if (!found)
    return std::move(found.error());
  std::unordered_set<uint32_t> asked{wanted.begin(), wanted.end()};
  for (auto& f : *found)
    if (asked.count(f.uid) > 0)
      result.push_back(f.uid);
  return result;
}

caf::error session::expunge_exactly(const std::vector<uint32_t>& uids) {
  // Only UID EXPUNGE (UIDPLUS) removes exactly these messages; a plain
  // EXPUNGE would purge every \Deleted message of the folder.
  if (!caps_.uidplus)
    return caf::make_error(ec::not_supported,
                           "The IMAP server does not support UIDPLUS, so "
                           "Postern cannot remove single messages for good "
                           "without also purging every other message marked "
                           "deleted in the folder");
  auto set = uid_set(uids);
  flag_list_ptr flags{mailimap_flag_list_new_empty()};
  mailimap_flag_list_add(flags.get(), mailimap_flag_new_deleted());
  store_att_ptr store{
    mailimap_store_att_flags_new_add_flags_silent(flags.release())};
  start_call();
  auto rc = mailimap_uid_store(imap_, set.get(), store.get());
  if (rc != MAILIMAP_NO_ERROR)
    return command_error(rc, "mark the messages as deleted");
  start_call();
  rc = mailimap_uid_expunge(imap_, set.get());
  if (rc != MAILIMAP_NO_ERROR)
    return command_error(rc, "remove the messages");
  return {};
}

caf::expected<std::vector<std::pair<uint32_t, uint32_t>>>
session::transfer(const std::vector<uint32_t>& uids,
                  const std::string& destination, bool remove_source) {
  auto set = uid_set(uids);
  auto target = wire_mailbox_name(destination);
  std::vector<std::pair<uint32_t, uint32_t>> mapping;
  bool use_move = remove_source && caps_.move;
  if (remove_source && !caps_.move && !caps_.uidplus)
    return caf::make_error(ec::not_supported,
                           "The IMAP server supports neither MOVE nor "
                           "UIDPLUS, so Postern cannot move single messages "
                           "safely");
  uint32_t validity = 0;
  mailimap_set* src_raw = nullptr;
  mailimap_set* dst_raw = nullptr;
  start_call();
  int rc;
  if (use_move && caps_.uidplus)
    rc = mailimap_uidplus_uid_move(imap_, set.get(), target.c_str(), &validity,
                                   &src_raw, &dst_raw);
  else if (use_move)
    rc = mailimap_uid_move(imap_, set.get(), target.c_str());
  else if (caps_.uidplus)
    rc = mailimap_uidplus_uid_copy(imap_, set.get(), target.c_str(), &validity,
                                   &src_raw, &dst_raw);
  else
    rc = mailimap_uid_copy(imap_, set.get(), target.c_str());
  set_ptr src{src_raw};
  set_ptr dst{dst_raw};
  std::string verb = remove_source ? "move" : "copy";
  if (rc != MAILIMAP_NO_ERROR)
    return folder_error(destination, rc,
                        verb + " the messages to \"" + destination + "\"");
  // COPYUID lists source and destination UIDs in corresponding order.
  auto from = set_uids(src.get());
  auto to = set_uids(dst.get());
  if (from.size() == to.size())
    for (size_t i = 0; i < from.size(); ++i)
      mapping.emplace_back(from[i], to[i]);
  if (remove_source && !use_move)
    if (auto err = expunge_exactly(uids))
      return err; // copied, but the originals stay: said in the error
  return mapping;
}

caf::error session::choose_removal(const std::string& folder,
                                   bulk_result& result, bool& for_good) {
  auto trash = find_special_use("\\Trash");
  if (!trash)
    return caf::make_error(ec::not_supported,
                           "The mail account has no Trash folder, so "
                           "Postern cannot delete messages safely (it only "
                           "moves them to Trash)");
  for_good = same_mailbox(folder, *trash);
  result.destination = for_good ? std::string{} : *trash;
  if (for_good && !caps_.uidplus)
    return caf::make_error(ec::not_supported,
                           "The IMAP server does not support UIDPLUS, so "
                           "Postern cannot remove single messages from "
                           "Trash for good (a folder-wide EXPUNGE would "
                           "also purge other messages); nothing was "
                           "deleted");
  return {};
}

caf::error session::change_flags(const std::vector<uint32_t>& targets,
                                 const bulk_request& req, bulk_result& result) {
  auto set = uid_set(targets);
  flag_list_ptr add{mailimap_flag_list_new_empty()};
  flag_list_ptr remove{mailimap_flag_list_new_empty()};
  auto apply = [&](flag_action action, mailimap_flag* (*make)()) {
    if (action == flag_action::add)
      mailimap_flag_list_add(add.get(), make());
    else if (action == flag_action::remove)
      mailimap_flag_list_add(remove.get(), make());
  };
  apply(req.change.seen, mailimap_flag_new_seen);
  apply(req.change.flagged, mailimap_flag_new_flagged);
  apply(req.change.answered, mailimap_flag_new_answered);
  apply(req.change.deleted, mailimap_flag_new_deleted);
  for (auto* list : {&add, &remove}) {
    if (clist_isempty((*list)->fl_list))
      continue;
    store_att_ptr store{
      list == &add
        ? mailimap_store_att_flags_new_add_flags_silent(list->release())
        : mailimap_store_att_flags_new_remove_flags_silent(list->release())};
    start_call();
    auto rc = mailimap_uid_store(imap_, set.get(), store.get());
    if (rc != MAILIMAP_NO_ERROR)
      return command_error(rc, "change the flags");
  }
  // The flags the server has now; a message expunged meanwhile by
  // another client gives no answer.
  auto now = fetch_flags(set.get(), true);
  if (!now)
    return std::move(now.error());
  auto outcome_of = [&](uint32_t uid) -> bulk_outcome* {
    for (auto& o : result.outcomes)
      if (o.uid == uid && !o.error)
        return &o;
    return nullptr;
  };
  std::unordered_set<uint32_t> answered;
  for (auto& f : *now)
    if (auto* o = outcome_of(f.uid)) {
      o->flags = std::move(f.flags);
      answered.insert(f.uid);
    }
  for (auto& o : result.outcomes)
    if (!o.error && answered.count(o.uid) == 0)
      o.error = no_such_message(o.uid, req.folder);
  return {};
}

caf::expected<bulk_result> session::change_messages(const bulk_request& req) {
  deadline_guard deadline{canceller_, options_.operation_timeout};
  if (auto err = check_usable())
    return err;
  bulk_result result;
  result.kind = req.kind;
  result.folder = req.folder;
  result.destination = req.destination;
  bool for_good = false;
  if (req.kind == bulk_kind::remove)
    if (auto err = choose_removal(req.folder, result, for_good))
      return err;
  if (req.kind == bulk_kind::flag)
    name_flag_changes(req.change, result);
  if (auto err = select(req.folder))
    return err;
  auto present = existing_uids(req.uids);
  if (!present)
    return std::move(present.error());
  auto targets = sort_out_targets(req, *present, result);
  if (targets.empty())
    return result;
  switch (req.kind) {
    case bulk_kind::move:
    case bulk_kind::copy:
    case bulk_kind::remove: {
      if (for_good) {
        if (auto err = expunge_exactly(targets))
          return err;
        break;
      }
      auto mapping = transfer(targets, result.destination,
                              req.kind != bulk_kind::copy);
      if (!mapping)
        return std::move(mapping.error());
      for (auto [from, to] : *mapping)
        for (auto& o : result.outcomes)
          if (o.uid == from && !o.error)
            o.new_uid = to;
      break;
    }
    case bulk_kind::flag:
      if (auto err = change_flags(targets, req, result))
        return err;
      break;
  }
  return result;
}

} // namespace postern::imap
