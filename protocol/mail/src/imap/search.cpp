// SPDX-License-Identifier: Apache-2.0
// The searches of imap::session: UID SEARCH of one folder (CHARSET UTF-8
// only when needed) and a search of every folder.
#include "etpan.hpp"
#include "fetched.hpp"
#include "net.hpp"
#include "postern/error.hpp"
#include "postern/imap/query.hpp"
#include "postern/imap/session.hpp"
#include "postern/mime/charset.hpp"

#include <algorithm>
#include <cstring>
#include <functional>

namespace postern::imap {

using namespace detail;

namespace {

std::string clean_search_text(const std::string& text) {
  auto result = mime::to_valid_utf8(text);
  for (auto& c : result)
    if (static_cast<unsigned char>(c) < 0x20)
      c = ' ';
  return result;
}

bool is_ascii(const std::string& text) {
  for (char c : text)
    if (static_cast<unsigned char>(c) >= 0x80)
      return false;
  return true;
}

/// The search key a query stands for; `needs_utf8` tells whether its text
/// needs CHARSET UTF-8.
struct search_criteria {
  search_key_ptr key;
  bool needs_utf8 = false;
};

/// The criteria of `q` ANDed together (ALL when it has none); fails only
/// for a date that is not one.
caf::expected<search_criteria> criteria_of(const search_query& q) {
  search_criteria result;
  result.key.reset(mailimap_search_key_new_multiple_empty());
  size_t criteria = 0;
  auto add = [&](mailimap_search_key* sub) {
    mailimap_search_key_multiple_add(result.key.get(), sub);
    ++criteria;
  };
  auto text_key = [&](const std::string& value,
                      mailimap_search_key* (*make)(char*) ) {
    if (value.empty())
      return;
    auto clean = clean_search_text(value);
    result.needs_utf8 = result.needs_utf8 || !is_ascii(clean);
    add(make(strdup(clean.c_str())));
  };
  for (auto [value, field] :
       {std::pair{&q.since, "since"}, std::pair{&q.before, "before"}}) {
    if (value->empty())
      continue;
    auto d = parse_date(*value, field);
    if (!d)
      return std::move(d.error());
    auto* date = mailimap_date_new(d->day, d->month, d->year);
    add(value == &q.since ? mailimap_search_key_new_since(date)
                          : mailimap_search_key_new_before(date));
  }
  if (!q.query.empty()) {
    auto clean = clean_search_text(q.query);
    result.needs_utf8 = result.needs_utf8 || !is_ascii(clean);
    add(mailimap_search_key_new_or(
      mailimap_search_key_new_subject(strdup(clean.c_str())),
      mailimap_search_key_new_body(strdup(clean.c_str()))));
  }
  text_key(q.from, mailimap_search_key_new_from);
  text_key(q.to, mailimap_search_key_new_to);
  text_key(q.subject, mailimap_search_key_new_subject);
  text_key(q.body, mailimap_search_key_new_body);
  text_key(q.text, mailimap_search_key_new_text);
  if (q.unseen)
    add(flag_key(MAILIMAP_SEARCH_KEY_UNSEEN));
  if (q.flagged)
    add(flag_key(MAILIMAP_SEARCH_KEY_FLAGGED));
  if (q.answered)
    add(flag_key(MAILIMAP_SEARCH_KEY_ANSWERED));
  if (criteria == 0)
    add(mailimap_search_key_new_all());
  return result;
}

} // namespace

caf::expected<std::vector<uint32_t>>
session::uid_search(mailimap_search_key* key, std::string_view action) {
  clist* raw = nullptr;
  start_call();
  auto rc = mailimap_uid_search(imap_, nullptr, key, &raw);
  search_result_ptr found{raw};
  if (rc != MAILIMAP_NO_ERROR)
    return command_error(rc, action);
  std::vector<uint32_t> uids;
  for (auto* u : items<uint32_t>(found.get()))
    uids.push_back(*u);
  return uids;
}

caf::expected<search_result> session::search(const std::string& folder,
                                             const search_query& q) {
  deadline_guard deadline{canceller_, options_.operation_timeout};
  auto limit = clamp_page_size(q.limit);
  auto criteria = criteria_of(q);
  if (!criteria)
    return std::move(criteria.error());
  if (auto err = select(folder))
    return err;
  clist* raw = nullptr;
  start_call();
  // US-ASCII criteria go without CHARSET, which every server accepts.
  auto rc = mailimap_uid_search(imap_, criteria->needs_utf8 ? "UTF-8" : nullptr,
                                criteria->key.get(), &raw);
  search_result_ptr found{raw};
  if (rc != MAILIMAP_NO_ERROR) {
    if (imap_->imap_response_info != nullptr
        && imap_->imap_response_info->rsp_badcharset != nullptr)
      return caf::make_error(ec::not_supported,
                             "The IMAP server cannot search for non-ASCII "
                             "text (it does not support UTF-8 searches)");
    return command_error(rc, "search the folder");
  }
  std::vector<uint32_t> uids;
  for (auto* uid : items<uint32_t>(found.get()))
    uids.push_back(*uid);
  std::sort(uids.begin(), uids.end(), std::greater<>{});
  uids.erase(std::unique(uids.begin(), uids.end()), uids.end());
  search_result result;
  result.total = static_cast<uint32_t>(uids.size());
  if (uids.size() > limit)
    uids.resize(limit);
  if (uids.empty())
    return result;
  auto set = uid_set(uids);
  auto list = fetch_summaries(set.get(), true, false);
  if (!list)
    return std::move(list.error());
  for (auto& f : *list)
    result.messages.push_back(std::move(f.summary));
  std::sort(result.messages.begin(), result.messages.end(),
            [](auto& x, auto& y) { return x.uid > y.uid; });
  return result;
}

// -- search of every folder
// -------------------------------------------------------

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
