// SPDX-License-Identifier: Apache-2.0
// search_messages: in one folder, or in every folder with folder "*"
// (schema in schemas/search_messages.json).

#include "families.hpp"
#include "writers.hpp"

namespace postern::mcp {

namespace detail {

namespace {

bool is_leap(int y) {
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/// Strict YYYY-MM-DD with a real calendar day.
bool valid_date(std::string_view s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-')
    return false;
  for (size_t i : {0u, 1u, 2u, 3u, 5u, 6u, 8u, 9u})
    if (s[i] < '0' || s[i] > '9')
      return false;
  auto num = [&](size_t at, size_t len) {
    int n = 0;
    for (size_t i = at; i < at + len; ++i)
      n = n * 10 + (s[i] - '0');
    return n;
  };
  int y = num(0, 4);
  int m = num(5, 2);
  int d = num(8, 2);
  static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (y < 1970 || y > 9999 || m < 1 || m > 12 || d < 1)
    return false;
  int max = days[m - 1] + (m == 2 && is_leap(y) ? 1 : 0);
  return d <= max;
}

/// Checks `since` and `before`; a sentence naming the bad one, or nothing.
std::string check_dates(const imap::search_query& q) {
  for (auto [field, value] :
       {std::pair{"since", &q.since}, std::pair{"before", &q.before}})
    if (!value->empty() && !valid_date(*value))
      return "`" + std::string{field}
             + "` must be a real date written YYYY-MM-DD, like "
               "2026-01-31 (got "
             + quote(*value) + ")";
  if (!q.since.empty() && !q.before.empty() && q.since >= q.before)
    return "`since` (" + q.since + ") must be before `before` (" + q.before
           + "), or no message can match";
  return {};
}

} // namespace

parsed_arguments parse_search_messages(const tool_arguments& args) {
  search_messages_args r;
  r.folder = args.text("folder");
  auto& q = r.query;
  q.query = args.text("query");
  q.from = args.text("from");
  q.to = args.text("to");
  q.subject = args.text("subject");
  q.body = args.text("body");
  q.text = args.text("text");
  q.since = args.text("since");
  q.before = args.text("before");
  if (auto err = check_dates(q); !err.empty())
    return refuse(err);
  q.unseen = args.flag("unseen");
  q.flagged = args.flag("flagged");
  q.answered = args.flag("answered");
  q.limit = args.integer("limit");
  r.include_body = args.flag("includeBody");
  return accept(std::move(r));
}

} // namespace detail

std::string encode_search(const imap::search_result& result,
                          const std::vector<imap::read_outcome>* previews) {
  return detail::fit_summaries(
    result.messages, previews, "ask for a smaller limit or narrow the search",
    [&](json_writer& w) { w.key("total").uinteger(result.total); });
}

std::string
encode_search_everywhere(const imap::multi_search_result& result,
                         const std::vector<imap::read_outcome>* previews) {
  return detail::fit_found(
    result.messages, previews != nullptr,
    "ask for a smaller limit or narrow the search",
    [&](json_writer& w) {
      w.key("total").uinteger(result.total);
      w.key("foldersSearched").uinteger(result.folders_searched);
      w.key("errors").begin_array();
      for (auto& e : result.errors)
        w.begin_object()
          .key("folder")
          .string(e.folder)
          .key("error")
          .string(e.error)
          .end_object();
      w.end_array();
    },
    [&](size_t i) -> const imap::read_outcome* {
      // One outcome per message, in order (UIDs repeat across folders).
      if (!previews || i >= previews->size() || (*previews)[i].error
          || (*previews)[i].uid != result.messages[i].summary.uid)
        return nullptr;
      return &(*previews)[i];
    });
}

} // namespace postern::mcp
