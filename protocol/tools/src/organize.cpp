// SPDX-License-Identifier: Apache-2.0
// The tools that change messages: move_message, flag_message,
// delete_message and copy_message, each for one UID or for several (schemas
// in schemas/<tool>.json).

#include "families.hpp"
#include "postern/error.hpp"
#include "writers.hpp"

namespace postern::mcp {

namespace detail {

namespace {

constexpr const char* no_uids
  = "give `uid` (one message) or `uids` (up to 100)";

/// move_message or flag_message called with `uids`.
bulk_change_args several_of(imap::bulk_kind kind, std::string folder,
                            std::vector<uint32_t> uids) {
  bulk_change_args b;
  b.several = true;
  b.request.kind = kind;
  b.request.folder = std::move(folder);
  b.request.uids = std::move(uids);
  return b;
}

/// The flag changes asked for; false when none was.
bool read_flag_change(const tool_arguments& args, imap::flag_change& change) {
  bool any = false;
  for (auto [field, action] :
       {std::pair{"seen", &change.seen}, std::pair{"flagged", &change.flagged},
        std::pair{"deleted", &change.deleted},
        std::pair{"answered", &change.answered}}) {
    if (auto v = args.given_flag(field)) {
      *action = *v ? imap::flag_action::add : imap::flag_action::remove;
      any = true;
    }
  }
  return any;
}

/// delete_message and copy_message (always answered per UID).
parsed_arguments parse_bulk(const tool_arguments& args, imap::bulk_kind kind) {
  bulk_change_args r;
  r.request.kind = kind;
  r.request.folder = args.text("folder");
  r.request.destination = args.text("destination");
  r.request.uids = args.uids(r.several);
  if (r.request.uids.empty())
    return refuse(no_uids);
  if (kind == imap::bulk_kind::copy
      && r.request.folder == r.request.destination)
    return refuse("`destination` is the folder the messages are already in");
  return accept(std::move(r));
}

/// The summary sentence of a bulk change.
std::string bulk_message(const imap::bulk_result& result, size_t ok,
                         bool for_good) {
  auto messages = [](size_t n) {
    return std::to_string(n) + (n == 1 ? " message" : " messages");
  };
  std::string verb;
  switch (result.kind) {
    case imap::bulk_kind::move:
      verb = "Moved " + messages(ok) + " to \"" + result.destination + "\"";
      break;
    case imap::bulk_kind::copy:
      verb = "Copied " + messages(ok) + " to \"" + result.destination + "\"";
      break;
    case imap::bulk_kind::flag:
      verb = "Changed the flags of " + messages(ok);
      break;
    case imap::bulk_kind::remove:
      verb = for_good ? "Deleted " + messages(ok) + " for good from \""
                          + result.folder + "\""
                      : "Moved " + messages(ok) + " to \"" + result.destination
                          + "\" (delete them there to remove them for good)";
      break;
  }
  auto count = result.outcomes.size();
  if (ok < count)
    verb += "; " + messages(count - ok) + " failed (see results)";
  return verb;
}

void write_bulk_outcomes(json_writer& w, const imap::bulk_result& result,
                         bool for_good) {
  w.key("results").begin_array();
  for (auto& o : result.outcomes) {
    w.begin_object().key("uid").uinteger(o.uid).key("success").boolean(
      !o.error);
    if (o.error) {
      w.key("error").string(describe(o.error));
    } else if (result.kind == imap::bulk_kind::flag) {
      write_strings(w.key("flags"), o.flags);
    } else if (!for_good) {
      w.key("newUid");
      write_uid_or_null(w, o.new_uid);
    }
    w.end_object();
  }
  w.end_array();
}

} // namespace

parsed_arguments parse_move_message(const tool_arguments& args) {
  move_message_args r;
  r.folder = args.text("folder");
  r.destination = args.text("destination");
  bool several = false;
  auto uids = args.uids(several);
  if (uids.empty())
    return refuse(no_uids);
  if (r.folder == r.destination)
    return refuse("`destination` is the folder the message is already in");
  if (several) {
    auto b = several_of(imap::bulk_kind::move, r.folder, std::move(uids));
    b.request.destination = r.destination;
    return accept(std::move(b));
  }
  r.uid = uids.front();
  return accept(std::move(r));
}

parsed_arguments parse_flag_message(const tool_arguments& args) {
  flag_message_args r;
  r.folder = args.text("folder");
  bool several = false;
  auto uids = args.uids(several);
  if (uids.empty())
    return refuse(no_uids);
  r.uid = uids.front();
  if (!read_flag_change(args, r.change))
    return refuse("give at least one of `seen`, `flagged`, `deleted` or "
                  "`answered` (true sets the flag, false clears it)");
  if (several) {
    auto b = several_of(imap::bulk_kind::flag, r.folder, std::move(uids));
    b.request.change = r.change;
    return accept(std::move(b));
  }
  return accept(std::move(r));
}

parsed_arguments parse_delete_message(const tool_arguments& args) {
  return parse_bulk(args, imap::bulk_kind::remove);
}

parsed_arguments parse_copy_message(const tool_arguments& args) {
  return parse_bulk(args, imap::bulk_kind::copy);
}

} // namespace detail

std::string encode_move(const move_message_args& args,
                        const imap::move_result& result) {
  json_writer w;
  w.begin_object()
    .key("success")
    .boolean(true)
    .key("message")
    .string("Moved message " + std::to_string(args.uid) + " to "
            + result.destination)
    .key("uid")
    .uinteger(args.uid)
    .key("destination")
    .string(result.destination.empty() ? args.destination : result.destination)
    .key("newUid");
  detail::write_uid_or_null(w, result.new_uid);
  w.end_object();
  return w.take();
}

std::string encode_flag(const imap::flag_result& result) {
  json_writer w;
  w.begin_object().key("success").boolean(true).key("uid").uinteger(result.uid);
  detail::write_strings(w.key("added"), result.added);
  detail::write_strings(w.key("removed"), result.removed);
  detail::write_strings(w.key("flags"), result.flags);
  w.end_object();
  return w.take();
}

std::string bulk_failure(const imap::bulk_result& result) {
  if (result.outcomes.empty())
    return "No message was given.";
  for (auto& o : result.outcomes)
    if (!o.error)
      return {};
  // Nothing changed: the call failed. One reason, or the first and a count.
  auto first = describe(result.outcomes.front().error);
  if (result.outcomes.size() == 1)
    return first + ".";
  return "None of the " + std::to_string(result.outcomes.size())
         + " messages was changed: " + first + " (and "
         + std::to_string(result.outcomes.size() - 1) + " more).";
}

std::string encode_bulk(const imap::bulk_result& result) {
  size_t ok = 0;
  for (auto& o : result.outcomes)
    if (!o.error)
      ++ok;
  bool for_good = result.kind == imap::bulk_kind::remove
                  && result.destination.empty();
  json_writer w;
  w.begin_object()
    .key("success")
    .boolean(ok == result.outcomes.size())
    .key("message")
    .string(detail::bulk_message(result, ok, for_good))
    .key("folder")
    .string(result.folder)
    .key("destination");
  if (result.kind == imap::bulk_kind::flag)
    w.string(result.folder);
  else
    w.string_or_null(result.destination);
  if (result.kind == imap::bulk_kind::remove)
    w.key("deletedForGood").boolean(for_good);
  if (result.kind == imap::bulk_kind::flag) {
    detail::write_strings(w.key("added"), result.added);
    detail::write_strings(w.key("removed"), result.removed);
  }
  detail::write_bulk_outcomes(w, result, for_good);
  w.end_object();
  return w.take();
}

} // namespace postern::mcp
