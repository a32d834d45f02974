// SPDX-License-Identifier: Apache-2.0
// The conversations of imap::session: the server's THREAD=REFERENCES when it
// has it, else a search for the Message-IDs that References/In-Reply-To
// link.
#include "etpan.hpp"
#include "fetched.hpp"
#include "net.hpp"
#include "postern/error.hpp"
#include "postern/imap/mailbox_name.hpp"
#include "postern/imap/query.hpp"
#include "postern/imap/session.hpp"
#include "postern/mime/header.hpp"

#include <algorithm>
#include <cstring>
#include <optional>
#include <set>
#include <unordered_map>
#include <unordered_set>

namespace postern::imap {

using namespace detail;

namespace {

// -- THREAD response
// ------------------------------------------------------------

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

/// Oldest first: by Date header when there is one, else arrival, then UID
/// (then folder: UIDs repeat across folders).
bool older(const found_message& x, const found_message& y) {
  auto& dx = x.summary.date.empty() ? x.summary.received : x.summary.date;
  auto& dy = y.summary.date.empty() ? y.summary.received : y.summary.date;
  if (dx != dy)
    return dx < dy;
  if (x.summary.uid != y.summary.uid)
    return x.summary.uid < y.summary.uid;
  return x.folder < y.folder;
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
    auto linked = search_linked(ids, "search the conversation");
    if (!linked)
      return std::move(linked.error());
    std::vector<uint32_t> found_uids;
    for (auto u : *linked)
      if (members.count(u) == 0)
        found_uids.push_back(u);
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

caf::expected<std::vector<uint32_t>>
session::search_linked(const std::vector<std::string>& ids,
                       std::string_view action) {
  // Twenty ids (sixty HEADER keys) per SEARCH keep each command short.
  std::set<uint32_t> uids;
  for (size_t at = 0; at < ids.size(); at += 20) {
    std::vector<std::string> chunk(
      ids.begin() + static_cast<long>(at),
      ids.begin() + static_cast<long>(std::min(ids.size(), at + 20)));
    auto key = linked_to(chunk);
    auto hits = uid_search(key.get(), action);
    if (!hits)
      return std::move(hits.error());
    for (auto u : *hits)
      if (u != 0)
        uids.insert(u);
  }
  return std::vector<uint32_t>{uids.begin(), uids.end()};
}

caf::error session::thread_in_sent(const std::string& folder,
                                  std::vector<std::string> ids,
                                  thread_result& into) {
  auto sent = find_special_use("\\Sent");
  if (!sent || same_mailbox(*sent, folder)) // no Sent, or already there
    return {};
  ids.erase(std::remove_if(ids.begin(), ids.end(),
                           [](auto& id) { return !searchable_id(id); }),
            ids.end());
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  if (ids.empty())
    return {};
  if (auto err = select(*sent))
    return err;
  auto linked = search_linked(ids, "search Sent for the conversation");
  if (!linked)
    return std::move(linked.error());
  if (linked->empty())
    return {};
  // The newest replies are fetched; the others are only counted.
  auto& list = *linked;
  into.total += static_cast<uint32_t>(list.size());
  if (list.size() > max_thread_messages)
    list.erase(list.begin(),
               list.end() - static_cast<long>(max_thread_messages));
  auto fetched_list = fetch_summaries(uid_set(list).get(), true, false);
  if (!fetched_list)
    return std::move(fetched_list.error());
  std::unordered_set<std::string> known{ids.begin(), ids.end()};
  for (auto& f : *fetched_list) {
    // A message both received and kept in Sent (sent to oneself) is
    // listed once, where it was asked for.
    if (!f.summary.message_id.empty() && known.count(f.summary.message_id)) {
      --into.total;
      continue;
    }
    into.messages.push_back({*sent, std::move(f.summary)});
  }
  return {};
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
  std::vector<std::string> ids;
  for (auto& [u, s] : by_uid) {
    ids.push_back(s.message_id);
    result.messages.push_back({folder, std::move(s)});
  }
  // The person's own replies are in Sent: join those that link to any
  // message of the conversation (their References name its ids).
  if (auto err = thread_in_sent(folder, std::move(ids), result))
    return err;
  auto& all = result.messages;
  std::sort(all.begin(), all.end(), older);
  if (all.size() > max_thread_messages)
    all.erase(all.begin(),
              all.end() - static_cast<long>(max_thread_messages));
  return result;
}

} // namespace postern::imap
