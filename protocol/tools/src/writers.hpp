// SPDX-License-Identifier: Apache-2.0
#pragma once

// Pieces of structuredContent that several tool families write: addresses,
// string lists, message summaries, and lists of summaries cut to fit in one
// result.

#include "postern/imap/types.hpp"
#include "postern/mcp/json.hpp"
#include "postern/mcp/tools.hpp"
#include "postern/mime/address.hpp"

#include <algorithm>
#include <functional>
#include <string>
#include <vector>

namespace postern::mcp::detail {

void write_addresses(json_writer& w, const std::vector<mime::address>& list);

void write_strings(json_writer& w, const std::vector<std::string>& list);

void write_summary_fields(json_writer& w, const imap::message_summary& s);

/// A CallToolResult: `text` as the first content item, then what `more`
/// writes into the content array; unless it is an error, `text` is the
/// structuredContent JSON too.
std::string call_result(std::string_view text, bool is_error,
                        const std::function<void(json_writer&)>& more = {});

/// The fields of a sending tool's answer after its copy or hold: for a
/// held message "status": "awaiting_approval" with "outboxId",
/// "approveUrl", "expiresAt" and a "notice" that says what the agent
/// should do; for a sent one only the notice of a copy that could not be
/// saved.
void write_send_outcome(json_writer& w, std::string_view save_error,
                        const held_notice* held);

/// Writes a UID, or null for 0 (the server did not say).
void write_uid_or_null(json_writer& w, uint32_t uid);

/// Finds the preview text of a UID in the read outcomes.
const imap::read_outcome*
preview_of(const std::vector<imap::read_outcome>* previews, uint32_t uid);

/// The notice of a list of summaries shortened to fit.
std::string shortened_notice(size_t shown, size_t total, size_t preview,
                             const char* shorten_hint);

/// Writes a list of summaries, shortening previews and then the list until
/// the whole document fits. `extra` writes the other members, `each(w, i)`
/// more members of message i, `preview_for(i)` its preview (or nullptr).
template <class Extra, class Each, class Preview>
std::string fit_summaries(const std::vector<imap::message_summary>& messages,
                          bool with_previews, const char* shorten_hint,
                          Extra extra, Each each, Preview preview_for) {
  size_t count = messages.size();
  size_t preview = preview_chars;
  for (;;) {
    json_writer w;
    w.begin_object().key("messages").begin_array();
    for (size_t i = 0; i < count; ++i) {
      w.begin_object();
      write_summary_fields(w, messages[i]);
      each(w, i);
      if (const imap::read_outcome* p = preview_for(i)) {
        auto text = prefix_code_points(p->msg.body, preview);
        w.key("body").string(text);
        w.key("bodyTruncated")
          .boolean(text.size() < p->msg.body.size() || p->msg.truncated);
      }
      w.end_object();
    }
    w.end_array();
    extra(w);
    if (count < messages.size() || preview < preview_chars)
      w.key("truncated")
        .boolean(true)
        .key("notice")
        .string(
          shortened_notice(count, messages.size(), preview, shorten_hint));
    w.end_object();
    auto json = w.take();
    auto size = count_code_points(json);
    if (size <= max_result_chars || count == 0)
      return json;
    if (with_previews && preview > 100) {
      preview /= 4;
      continue;
    }
    // Drop messages in proportion to the excess (at least one).
    auto keep = count * max_result_chars / size;
    count = std::min(count - 1, keep);
  }
}

/// fit_summaries of messages that each name their folder (a search of
/// every folder, a conversation joined with Sent).
template <class Extra, class Preview>
std::string fit_found(const std::vector<imap::found_message>& messages,
                      bool with_previews, const char* shorten_hint,
                      Extra extra, Preview preview_for) {
  std::vector<imap::message_summary> summaries;
  summaries.reserve(messages.size());
  for (auto& m : messages)
    summaries.push_back(m.summary);
  return fit_summaries(
    summaries, with_previews, shorten_hint, extra,
    [&](json_writer& w, size_t i) {
      w.key("folder").string(messages[i].folder);
    },
    preview_for);
}

/// fit_summaries with the previews found by UID.
template <class Extra>
std::string fit_summaries(const std::vector<imap::message_summary>& messages,
                          const std::vector<imap::read_outcome>* previews,
                          const char* shorten_hint, Extra extra) {
  return fit_summaries(
    messages, previews != nullptr, shorten_hint, extra,
    [](json_writer&, size_t) {},
    [&](size_t i) { return preview_of(previews, messages[i].uid); });
}

} // namespace postern::mcp::detail
