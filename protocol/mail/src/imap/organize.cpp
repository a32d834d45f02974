// SPDX-License-Identifier: Apache-2.0
// The organizing operations of imap::session: conversations (THREAD or a
// header search), bulk move/copy/flag/delete with per-UID outcomes, folder
// create/rename/delete, and a search of every folder.
#include "postern/imap/session.hpp"

#include "etpan.hpp"
#include "fetched.hpp"
#include "net.hpp"
#include "postern/error.hpp"
#include "postern/imap/mailbox_name.hpp"
#include "postern/imap/query.hpp"
#include "postern/mime/charset.hpp"
#include "postern/mime/header.hpp"

#include <algorithm>
#include <cstring>
#include <map>
#include <set>
#include <unordered_map>
#include <unordered_set>

namespace postern::imap {

using namespace detail;

namespace {

// -- THREAD response ------------------------------------------------------------

// libetpan has no THREAD command. The command goes out as a custom command;
// its untagged "* THREAD ..." answer reaches libetpan's parser as unknown
// mailbox data, which it hands to registered extensions: this one keeps the
// text after the word THREAD (a thread list has no literals, so it is all
// on the line).

int parse_thread_data(int calling_parser, mailstream*, MMAPString* buffer,
                      mailimap_parser_context*, size_t* indx,
                      mailimap_extension_data** result, size_t,
                      progress_function*);

void free_thread_data(mailimap_extension_data* data) {
  if (data == nullptr)
    return;
  delete static_cast<std::string*>(data->ext_data);
  free(data); // allocated by mailimap_extension_data_new
}

char thread_extension_name[] = "THREAD";

mailimap_extension_api thread_extension = {
  thread_extension_name,
  -1, // an extension outside libetpan
  parse_thread_data,
  free_thread_data,
};

int parse_thread_data(int calling_parser, mailstream*, MMAPString* buffer,
                      mailimap_parser_context*, size_t* indx,
                      mailimap_extension_data** result, size_t,
                      progress_function*) {
  if (calling_parser != MAILIMAP_EXTENDED_PARSER_MAILBOX_DATA
      || buffer == nullptr || *indx > buffer->len)
    return MAILIMAP_ERROR_PARSE;
  std::string_view rest{buffer->str + *indx, buffer->len - *indx};
  if (rest.size() < 6 || !mime::iequals(rest.substr(0, 6), "THREAD"))
    return MAILIMAP_ERROR_PARSE;
  auto end = rest.find("\r\n");
  if (end == std::string_view::npos)
    return MAILIMAP_ERROR_PARSE;
  if (end > 6 && rest[6] != ' ')
    return MAILIMAP_ERROR_PARSE; // some other word that starts with THREAD
  auto* text = new std::string{rest.substr(6, end - 6)};
  *result = mailimap_extension_data_new(&thread_extension, 0, text);
  if (*result == nullptr) {
    delete text;
    return MAILIMAP_ERROR_MEMORY;
  }
  *indx += end;
  return MAILIMAP_NO_ERROR;
}

/// Registers the THREAD parser once per process. Called from every
/// session's first thread request; libetpan's extension list is global and
/// not locked, hence the static initialization (other sessions that are
/// parsing meanwhile only read the list, and the append is one pointer
/// store at its end).
void register_thread_extension() {
  static const bool registered = [] {
    mailimap_extension_register(&thread_extension);
    return true;
  }();
  (void) registered;
}

/// Takes the THREAD text out of the last response's extension data.
std::optional<std::string> take_thread_text(mailimap* imap) {
  if (imap->imap_response_info == nullptr)
    return std::nullopt;
  std::optional<std::string> text;
  for (auto* ext : items<mailimap_extension_data>(
         imap->imap_response_info->rsp_extension_list))
    if (ext->ext_extension == &thread_extension && ext->ext_data != nullptr
        && !text)
      text = *static_cast<std::string*>(ext->ext_data);
  return text;
}

bool has_capability(const capabilities& caps, std::string_view name) {
  return std::any_of(caps.all.begin(), caps.all.end(),
                     [&](const std::string& c) { return c == name; });
}

/// Oldest first: by Date header when there is one, else arrival, then UID.
void sort_oldest_first(std::vector<message_summary>& list) {
  std::sort(list.begin(), list.end(), [](auto& x, auto& y) {
    auto& dx = x.date.empty() ? x.received : x.date;
    auto& dy = y.date.empty() ? y.received : y.date;
    if (dx != dy)
      return dx < dy;
    return x.uid < y.uid;
  });
}

mailimap_search_key* header_key(const char* name, const std::string& value) {
  return mailimap_search_key_new_header(strdup(name), strdup(value.c_str()));
}

/// OR of HEADER Message-ID/References/In-Reply-To for each id.
search_key_ptr linked_to(const std::vector<std::string>& ids) {
  mailimap_search_key* key = nullptr;
  auto add = [&](mailimap_search_key* k) {
    key = key == nullptr ? k : mailimap_search_key_new_or(key, k);
  };
  for (auto& id : ids) {
    add(header_key("Message-ID", id));
    add(header_key("References", id));
    add(header_key("In-Reply-To", id));
  }
  return search_key_ptr{key};
}

/// A Message-ID safe to put in a search: "<...>" of printable ASCII.
bool searchable_id(const std::string& id) {
  if (id.size() < 3 || id.size() > 250 || id.front() != '<' || id.back() != '>')
    return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return c > 0x20 && c < 0x7f && c != '"' && c != '\\';
  });
}

bool same_folder(const std::string& x, const std::string& y) {
  return wire_mailbox_name(x) == wire_mailbox_name(y);
}

caf::error protected_folder(const folder& f, std::string_view verb) {
  if (f.special_use == "\\Inbox" || mime::iequals(f.name, "INBOX"))
    return caf::make_error(ec::invalid_argument, "INBOX cannot be " + std::string{verb});
  return caf::make_error(ec::invalid_argument,
                         "The folder \"" + f.name + "\" is the account's "
                           + f.special_use.substr(1)
                           + " folder (special use) and cannot be "
                           + std::string{verb});
}

/// Checks a new folder name: not empty, no control characters, no LIST
/// wildcards, no empty hierarchy level.
caf::error check_new_name(const std::string& name, const std::string& delimiter) {
  auto bad = [&](const std::string& why) {
    return caf::make_error(ec::invalid_argument,
                           "The folder name \"" + mime::to_valid_utf8(name)
                             + "\" " + why);
  };
  if (!mime::is_valid_utf8(name))
    return bad("is not valid UTF-8");
  for (char ch : name)
    if (auto c = static_cast<unsigned char>(ch); c < 0x20 || c == 0x7f)
      return bad("contains a control character");
  if (name.find_first_of("*%") != std::string::npos)
    return bad("contains * or %, which IMAP reserves as wildcards");
  if (mime::iequals(name, "INBOX"))
    return bad("is reserved for the inbox");
  if (!delimiter.empty()) {
    if (name.compare(0, delimiter.size(), delimiter) == 0
        || (name.size() >= delimiter.size()
            && name.compare(name.size() - delimiter.size(), delimiter.size(),
                            delimiter)
                 == 0)
        || name.find(delimiter + delimiter) != std::string::npos)
      return bad("has an empty level (a leading, trailing or doubled \""
                 + delimiter + "\")");
  }
  return {};
}

const folder* find_folder(const std::vector<folder>& folders,
                          const std::string& name) {
  for (auto& f : folders)
    if (same_folder(f.name, name))
      return &f;
  return nullptr;
}

/// A special-use folder (or INBOX) at or below `name`, if any.
const folder* protected_at_or_below(const std::vector<folder>& folders,
                                    const folder& top) {
  for (auto& f : folders) {
    if (f.special_use.empty())
      continue;
    if (same_folder(f.name, top.name))
      return &f;
    if (!top.delimiter.empty()
        && f.name.compare(0, top.name.size() + top.delimiter.size(),
                          top.name + top.delimiter)
             == 0)
      return &f;
  }
  return nullptr;
}

} // namespace

// -- conversations ------------------------------------------------------------

caf::expected<std::vector<uint32_t>> session::thread_by_server(uint32_t uid) {
  register_thread_extension();
  start_call();
  auto rc = mailimap_custom_command(imap_, "UID THREAD REFERENCES UTF-8 ALL");
  if (rc != MAILIMAP_NO_ERROR)
    return command_error(rc, "thread the folder");
  auto text = take_thread_text(imap_);
  if (!text)
    return caf::make_error(ec::protocol_violation,
                           "The IMAP server answered THREAD without a "
                           "thread list");
  auto groups = parse_thread_groups(*text);
  if (!groups)
    return caf::make_error(ec::protocol_violation,
                           "The IMAP server sent a thread list Postern could "
                           "not understand");
  for (auto& g : *groups)
    if (std::find(g.begin(), g.end(), uid) != g.end())
      return g;
  return std::vector<uint32_t>{};
}

caf::expected<std::vector<uint32_t>>
session::thread_by_headers(uint32_t uid, std::vector<fetched>& seen) {
  auto first = fetch_summaries(uid_set({uid}).get(), true, true);
  if (!first)
    return std::move(first.error());
  if (first->empty())
    return std::vector<uint32_t>{};
  std::set<uint32_t> members;
  std::unordered_set<std::string> known;
  std::vector<std::string> frontier;
  // Remembers a message and queues the ids it links to.
  auto take = [&](fetched& f) {
    members.insert(f.summary.uid);
    std::vector<std::string> ids = f.references;
    ids.push_back(f.summary.message_id);
    ids.push_back(f.summary.in_reply_to);
    for (auto& id : ids)
      if (searchable_id(id) && known.insert(id).second)
        frontier.push_back(id);
    seen.push_back(std::move(f));
  };
  take(first->front());
  // Each round finds the messages that name one of the new ids; bounded,
  // since a conversation rarely spans more than a few hops per round.
  for (int round = 0; round < 20 && !frontier.empty(); ++round) {
    auto ids = std::move(frontier);
    frontier.clear();
    std::vector<uint32_t> found_uids;
    for (size_t at = 0; at < ids.size(); at += 20) {
      std::vector<std::string> chunk(ids.begin() + static_cast<long>(at),
                                     ids.begin()
                                       + static_cast<long>(std::min(ids.size(), at + 20)));
      auto key = linked_to(chunk);
      clist* raw = nullptr;
      start_call();
      auto rc = mailimap_uid_search(imap_, nullptr, key.get(), &raw);
      search_result_ptr found{raw};
      if (rc != MAILIMAP_NO_ERROR)
        return command_error(rc, "search the conversation");
      for (auto* u : items<uint32_t>(found.get()))
        if (*u != 0 && members.count(*u) == 0)
          found_uids.push_back(*u);
    }
    std::sort(found_uids.begin(), found_uids.end());
    found_uids.erase(std::unique(found_uids.begin(), found_uids.end()),
                     found_uids.end());
    if (found_uids.empty())
      break;
    if (members.size() + found_uids.size() > 1000)
      found_uids.resize(1000 - std::min<size_t>(members.size(), 1000));
    if (found_uids.empty())
      break;
    auto more = fetch_summaries(uid_set(found_uids).get(), true, true);
    if (!more)
      return std::move(more.error());
    for (auto& f : *more)
      take(f);
  }
  return std::vector<uint32_t>{members.begin(), members.end()};
}

caf::expected<thread_result> session::thread(const std::string& folder,
                                             uint32_t uid) {
  deadline_guard deadline{canceller_, options_.operation_timeout};
  if (uid == 0) // libetpan would send it as "*": the last message
    return no_such_message(uid, folder);
  if (auto err = select(folder))
    return err;
  thread_result result;
  std::vector<fetched> seen;
  caf::expected<std::vector<uint32_t>> members{std::vector<uint32_t>{}};
  if (options_.server_threading && has_capability(caps_, "THREAD=REFERENCES")) {
    result.method = "THREAD=REFERENCES";
    members = thread_by_server(uid);
  } else {
    result.method = "headers";
    members = thread_by_headers(uid, seen);
  }
  if (!members)
    return std::move(members.error());
  if (members->empty())
    return no_such_message(uid, folder);
  result.total = static_cast<uint32_t>(members->size());
  // Fetch what the search did not already bring, then keep the newest.
  std::unordered_map<uint32_t, message_summary> by_uid;
  for (auto& f : seen)
    by_uid.emplace(f.summary.uid, std::move(f.summary));
  std::vector<uint32_t> missing;
  for (auto u : *members)
    if (by_uid.count(u) == 0)
      missing.push_back(u);
  if (!missing.empty()) {
    auto list = fetch_summaries(uid_set(missing).get(), true, false);
    if (!list)
      return std::move(list.error());
    for (auto& f : *list)
      by_uid.emplace(f.summary.uid, std::move(f.summary));
  }
  for (auto& [u, s] : by_uid)
    result.messages.push_back(std::move(s));
  sort_oldest_first(result.messages);
  if (result.messages.size() > max_thread_messages)
    result.messages.erase(result.messages.begin(),
                          result.messages.end()
                            - static_cast<long>(max_thread_messages));
  return result;
}

// -- bulk changes ---------------------------------------------------------------

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
    rc = mailimap_uidplus_uid_move(imap_, set.get(), target.c_str(),
                                   &validity, &src_raw, &dst_raw);
  else if (use_move)
    rc = mailimap_uid_move(imap_, set.get(), target.c_str());
  else if (caps_.uidplus)
    rc = mailimap_uidplus_uid_copy(imap_, set.get(), target.c_str(),
                                   &validity, &src_raw, &dst_raw);
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

caf::expected<bulk_result> session::change_messages(const bulk_request& req) {
  deadline_guard deadline{canceller_, options_.operation_timeout};
  if (auto err = check_usable())
    return err;
  bulk_result result;
  result.kind = req.kind;
  result.folder = req.folder;
  result.destination = req.destination;
  bool for_good = false;
  if (req.kind == bulk_kind::remove) {
    auto trash = find_special_use("\\Trash");
    if (!trash)
      return caf::make_error(ec::not_supported,
                             "The mail account has no Trash folder, so "
                             "Postern cannot delete messages safely (it only "
                             "moves them to Trash)");
    for_good = same_folder(req.folder, *trash);
    result.destination = for_good ? std::string{} : *trash;
    if (for_good && !caps_.uidplus)
      return caf::make_error(ec::not_supported,
                             "The IMAP server does not support UIDPLUS, so "
                             "Postern cannot remove single messages from "
                             "Trash for good (a folder-wide EXPUNGE would "
                             "also purge other messages); nothing was "
                             "deleted");
  }
  if (req.kind == bulk_kind::flag) {
    auto name = [&](flag_action a, const char* flag) {
      if (a == flag_action::add)
        result.added.emplace_back(flag);
      else if (a == flag_action::remove)
        result.removed.emplace_back(flag);
    };
    name(req.change.seen, "\\Seen");
    name(req.change.flagged, "\\Flagged");
    name(req.change.answered, "\\Answered");
    name(req.change.deleted, "\\Deleted");
  }
  if (auto err = select(req.folder))
    return err;
  auto present = existing_uids(req.uids);
  if (!present)
    return std::move(present.error());
  std::unordered_set<uint32_t> here{present->begin(), present->end()};
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
  if (targets.empty())
    return result;
  auto outcome_of = [&](uint32_t uid) -> bulk_outcome* {
    for (auto& o : result.outcomes)
      if (o.uid == uid && !o.error)
        return &o;
    return nullptr;
  };
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
    case bulk_kind::flag: {
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
      std::unordered_set<uint32_t> answered;
      for (auto& f : *now)
        if (auto* o = outcome_of(f.uid)) {
          o->flags = std::move(f.flags);
          answered.insert(f.uid);
        }
      for (auto& o : result.outcomes)
        if (!o.error && answered.count(o.uid) == 0)
          o.error = no_such_message(o.uid, req.folder);
      break;
    }
  }
  return result;
}

// -- folders --------------------------------------------------------------------

caf::expected<folder> session::change_folder(const folder_change& change) {
  deadline_guard deadline{canceller_, options_.operation_timeout};
  auto folders = list_folders(false);
  if (!folders)
    return std::move(folders.error());
  // The hierarchy delimiter of the account (the one of INBOX, else any).
  std::string delimiter;
  for (auto& f : *folders)
    if (!f.delimiter.empty() && (delimiter.empty() || f.special_use == "\\Inbox"))
      delimiter = f.delimiter;
  auto missing = [](const std::string& name) {
    return caf::make_error(ec::no_such_folder,
                           "The folder \"" + mime::to_valid_utf8(name)
                             + "\" does not exist");
  };
  auto exists_already = [](const std::string& name) {
    return caf::make_error(ec::already_exists,
                           "A folder named \"" + mime::to_valid_utf8(name)
                             + "\" already exists");
  };
  // Runs one folder command; NO answers carry the server's words.
  auto run = [&](int rc, const std::string& action) -> caf::error {
    if (rc == MAILIMAP_NO_ERROR)
      return {};
    return command_error(rc, action);
  };
  auto listed = [&](const std::string& name) -> caf::expected<folder> {
    auto after = list_folders(false);
    if (!after)
      return std::move(after.error());
    if (auto* f = find_folder(*after, name))
      return *f;
    folder f; // the server made it but does not list it (yet)
    f.name = name;
    f.delimiter = delimiter;
    return f;
  };
  switch (change.action) {
    case folder_action::create: {
      if (auto err = check_new_name(change.name, delimiter))
        return err;
      if (find_folder(*folders, change.name) != nullptr)
        return exists_already(change.name);
      auto wire = wire_mailbox_name(change.name);
      start_call();
      if (auto err = run(mailimap_create(imap_, wire.c_str()),
                         "create the folder \"" + change.name + "\""))
        return err;
      return listed(change.name);
    }
    case folder_action::rename: {
      auto* from = find_folder(*folders, change.name);
      if (from == nullptr)
        return missing(change.name);
      if (auto* p = protected_at_or_below(*folders, *from))
        return p == from || same_folder(p->name, from->name)
                 ? protected_folder(*from, "renamed")
                 : caf::make_error(ec::invalid_argument,
                                   "The folder \"" + from->name
                                     + "\" holds the special-use folder \""
                                     + p->name + "\" and cannot be renamed");
      if (auto err = check_new_name(change.new_name, delimiter))
        return err;
      if (find_folder(*folders, change.new_name) != nullptr)
        return exists_already(change.new_name);
      auto old_wire = wire_mailbox_name(change.name);
      auto new_wire = wire_mailbox_name(change.new_name);
      if (selected_ == old_wire)
        selected_.clear(); // the selection follows the rename on some servers
      start_call();
      if (auto err = run(mailimap_rename(imap_, old_wire.c_str(),
                                         new_wire.c_str()),
                         "rename the folder \"" + change.name + "\""))
        return err;
      return listed(change.new_name);
    }
    case folder_action::remove: {
      auto* target = find_folder(*folders, change.name);
      if (target == nullptr)
        return missing(change.name);
      if (auto* p = protected_at_or_below(*folders, *target))
        return same_folder(p->name, target->name)
                 ? protected_folder(*target, "deleted")
                 : caf::make_error(ec::invalid_argument,
                                   "The folder \"" + target->name
                                     + "\" holds the special-use folder \""
                                     + p->name + "\" and cannot be deleted");
      auto wire = wire_mailbox_name(change.name);
      if (target->selectable) {
        // Deleting a folder deletes its messages with it: refuse unless
        // it is empty, so nothing is lost by one call.
        auto* atts = mailimap_status_att_list_new_empty();
        status_att_ptr att_list{atts};
        mailimap_status_att_list_add(atts, MAILIMAP_STATUS_ATT_MESSAGES);
        mailimap_mailbox_data_status* raw = nullptr;
        start_call();
        auto rc = mailimap_status(imap_, wire.c_str(), atts, &raw);
        status_ptr status{raw};
        if (rc != MAILIMAP_NO_ERROR)
          return folder_error(change.name, rc,
                              "count the messages of \"" + change.name + "\"");
        uint32_t count = 0;
        for (auto* info : items<mailimap_status_info>(status->st_info_list))
          if (info->st_att == MAILIMAP_STATUS_ATT_MESSAGES)
            count = info->st_value;
        if (count > 0)
          return caf::make_error(ec::invalid_argument,
                                 "The folder \"" + target->name + "\" still holds "
                                   + std::to_string(count)
                                   + (count == 1 ? " message" : " messages")
                                   + "; move or delete them first, so no "
                                     "mail is lost with the folder");
      }
      auto result = *target;
      if (selected_ == wire) {
        // A selected mailbox cannot always be deleted: leave it first.
        start_call();
        if (auto err = run(mailimap_close(imap_), "close the folder"))
          return err;
        selected_.clear();
      }
      start_call();
      if (auto err = run(mailimap_delete(imap_, wire.c_str()),
                         "delete the folder \"" + change.name + "\""))
        return err;
      return result;
    }
  }
  return caf::make_error(ec::invalid_argument, "Unknown folder change");
}

// -- search of every folder -------------------------------------------------------

caf::expected<multi_search_result>
session::search_everywhere(const search_query& query) {
  deadline_guard deadline{canceller_, options_.operation_timeout};
  auto folders = list_folders(false);
  if (!folders)
    return std::move(folders.error());
  multi_search_result result;
  auto limit = clamp_page_size(query.limit);
  for (auto& f : *folders) {
    if (!f.selectable)
      continue;
    auto found = search(f.name, query);
    if (!found) {
      if (!usable_)
        return std::move(found.error()); // the connection is gone
      result.errors.push_back({f.name, describe(found.error())});
      continue;
    }
    ++result.folders_searched;
    result.total += found->total;
    for (auto& m : found->messages)
      result.messages.push_back({f.name, std::move(m)});
  }
  // Newest first across folders: by arrival, then UID.
  std::sort(result.messages.begin(), result.messages.end(),
            [](const found_message& x, const found_message& y) {
              if (x.summary.received != y.summary.received)
                return x.summary.received > y.summary.received;
              return x.summary.uid > y.summary.uid;
            });
  if (result.messages.size() > limit)
    result.messages.resize(limit);
  return result;
}

} // namespace postern::imap
