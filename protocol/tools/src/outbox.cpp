// SPDX-License-Identifier: Apache-2.0
// Sending that waits for a yes: what the sending tools answer for a held
// message, and get_send_status (schema in schemas/get_send_status.json).

#include "families.hpp"
#include "postern/clock.hpp"
#include "postern/mcp/json.hpp"
#include "writers.hpp"

namespace postern::mcp {

namespace detail {

parsed_arguments parse_get_send_status(const tool_arguments& args) {
  get_send_status_args r;
  r.outbox_id = args.text("outboxId");
  return accept(std::move(r));
}

void write_send_outcome(json_writer& w, std::string_view save_error,
                        const held_notice* held) {
  // A message that went out keeps the original's answer exactly (no
  // "status"): clients written for it see nothing new.
  if (!held) {
    if (!save_error.empty())
      w.key("notice").string("The message was sent, but no copy could be "
                             "saved to the Sent folder: "
                             + std::string{save_error});
    return;
  }
  auto expires = iso8601_utc(held->expires);
  w.key("status")
    .string("awaiting_approval")
    .key("outboxId")
    .string(held->outbox_id)
    .key("approveUrl")
    .string(held->approve_url)
    .key("expiresAt")
    .string(expires)
    .key("notice")
    .string("Not sent yet: this connection asks its person before anything "
            "is sent. They can send or discard it at "
            + held->approve_url + " (it expires " + expires
            + " unsent). Tell them, and check with get_send_status; do not "
              "send it again.");
}

} // namespace detail

std::string encode_send_status(const outbox_entry& entry,
                               std::string_view approve_url) {
  json_writer w;
  w.begin_object()
    .key("outboxId")
    .string(entry.id)
    .key("status")
    .string(to_string(entry.status))
    .key("messageId")
    .string(entry.message.message_id)
    .key("subject")
    .string(entry.message.subject)
    .key("to");
  detail::write_strings(w, entry.message.to);
  w.key("createdAt")
    .string(iso8601_utc(entry.created))
    .key("expiresAt")
    .string(iso8601_utc(entry.expires))
    .key("decidedAt");
  if (entry.decided > 0)
    w.string(iso8601_utc(entry.decided));
  else
    w.null();
  w.key("sentFolder").string_or_null(entry.sent_folder);
  if (entry.status == outbox_status::pending)
    w.key("approveUrl").string(approve_url);
  std::string notice;
  switch (entry.status) {
    case outbox_status::pending:
      notice = entry.error.empty()
                 ? "Waiting for the person's yes; nothing was sent."
                 : "Still waiting: the person said yes, but sending failed ("
                     + entry.error + "); they can try again.";
      break;
    case outbox_status::sent:
      notice = "The person approved it and it was sent.";
      break;
    case outbox_status::discarded:
      notice = "The person discarded it; it was not sent.";
      break;
    case outbox_status::expired:
      notice = "Nobody approved it in time; it expired unsent.";
      break;
  }
  w.key("notice").string(notice);
  w.end_object();
  return w.take();
}

} // namespace postern::mcp
