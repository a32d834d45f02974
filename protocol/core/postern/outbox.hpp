// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "postern/ids.hpp"

#include <caf/meta/type_name.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace postern {

/// Where a message held for the person's yes stands. Only `pending` can
/// change, and only once: to sent, discarded or expired.
enum class outbox_status : uint8_t {
  pending = 0,
  sent = 1,
  discarded = 2,
  expired = 3,
};

/// "pending", "sent", "discarded", "expired" (the words tools answer).
std::string_view to_string(outbox_status s);

/// A message built and checked but not sent: exactly the bytes that will
/// go out once the person says yes, and what the dashboard shows of them.
struct held_message {
  /// With angle brackets; the Message-ID the bytes carry.
  std::string message_id;
  /// The SMTP envelope: MAIL FROM and every RCPT TO (To, Cc and Bcc).
  std::string sender;
  std::vector<std::string> recipients;
  /// The message as built (CRLF, no Bcc header). Empty in listings and
  /// once the message was decided on.
  std::string data;
  /// What the person reads before deciding ("Name <address>" each).
  std::string from;
  std::vector<std::string> to;
  std::vector<std::string> cc;
  std::vector<std::string> bcc;
  std::string subject;
  /// The plain-text body (the start of it, see max_held_text_chars).
  std::string text;
  /// "invoice.pdf (120 KB)" for each attached file.
  std::vector<std::string> attachments;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, held_message& x) {
  return f(caf::meta::type_name("held_message"), x.message_id, x.sender,
           x.recipients, x.data, x.from, x.to, x.cc, x.bcc, x.subject, x.text,
           x.attachments);
}

/// Most characters of a held message's text kept for the dashboard (the
/// message itself is sent whole).
inline constexpr size_t max_held_text_chars = 20000;

/// One message in a person's outbox.
struct outbox_entry {
  /// Random and unguessable (it is part of the approval URL), base64url.
  std::string id;
  user_id user;
  account_id account;
  /// The connection whose agent asked to send it.
  grant_id grant;
  /// Who asked and from where, in words, as they were at the time.
  std::string client_name;
  std::string account_label;
  outbox_status status = outbox_status::pending;
  /// Unix seconds.
  int64_t created = 0;
  int64_t expires = 0;
  int64_t decided = 0;
  /// Why the last attempt to send it failed (it stays pending), or empty.
  std::string error;
  /// Sent: the folder its copy went to (empty when saving failed).
  std::string sent_folder;
  held_message message;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, outbox_entry& x) {
  return f(caf::meta::type_name("outbox_entry"), x.id, x.user, x.account,
           x.grant, x.client_name, x.account_label, x.status, x.created,
           x.expires, x.decided, x.error, x.sent_folder, x.message);
}

} // namespace postern
