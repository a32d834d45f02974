// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "postern/mime/address.hpp"
#include "postern/mime/message_builder.hpp"
#include "postern/outbox.hpp"

#include <caf/meta/type_name.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

// Replies and forwards: who gets them, their subject and threading
// headers, and the quoted or forwarded original. Pure functions over what
// was read from the mailbox.

namespace postern::mime {

/// The message being answered or forwarded, as read from the mailbox.
struct original_message {
  std::vector<address> from;
  std::vector<address> to;
  std::vector<address> cc;
  std::vector<address> reply_to;
  /// Decoded subject (may be empty).
  std::string subject;
  /// The Date header as ISO 8601 UTC, or empty.
  std::string date;
  /// "<id@host>" or empty.
  std::string message_id;
  /// Its References, oldest first.
  std::vector<std::string> references;
  /// Its readable text.
  std::string text;
  /// Its files with their bytes (only read for forwards).
  std::vector<outgoing_attachment> attachments;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, original_message& x) {
  return f(caf::meta::type_name("original_message"), x.from, x.to, x.cc,
           x.reply_to, x.subject, x.date, x.message_id, x.references, x.text,
           x.attachments);
}

/// What a composing tool asks for.
enum class compose_kind : uint8_t { new_message, reply, forward };

/// A message to send or to save as a draft: new, a reply, or a forward of
/// the message `uid` in `folder`.
struct compose_request {
  compose_kind kind = compose_kind::new_message;
  /// The original (reply and forward).
  std::string folder = "INBOX";
  uint32_t uid = 0;
  /// Reply to everyone who got the original, not only its sender.
  bool reply_all = false;
  /// Quote the original's text below the reply.
  bool quote = true;
  /// What the agent wrote: text, extra recipients, attachments; the subject
  /// and recipients of replies are derived when empty.
  outgoing_message message;
  /// Save to Drafts instead of sending.
  bool draft = false;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, compose_request& x) {
  return f(caf::meta::type_name("compose_request"), x.kind, x.folder, x.uid,
           x.reply_all, x.quote, x.message, x.draft);
}

/// What became of a composed message.
struct composed_message {
  /// The new message's Message-ID.
  std::string message_id;
  /// The From address it was written with.
  std::string from;
  /// Sent: the Sent folder the copy went to (empty if saving failed).
  /// Draft: the Drafts folder.
  std::string folder;
  /// The copy's or draft's UID when the server said (UIDPLUS), else 0.
  uint32_t uid = 0;
  /// Sent, but the copy could not be saved: why.
  std::string save_error;
  std::string subject;
  std::vector<address> to;
  std::vector<address> cc;
  std::string in_reply_to;
  std::vector<std::string> references;
  /// Names of the attached files.
  std::vector<std::string> attachments;
  /// Not sent: held for the person's yes (see sent_message).
  bool awaiting_approval = false;
  held_message held;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, composed_message& x) {
  return f(caf::meta::type_name("composed_message"), x.message_id, x.from,
           x.folder, x.uid, x.save_error, x.subject, x.to, x.cc,
           x.in_reply_to, x.references, x.attachments, x.awaiting_approval, x.held);
}

/// "Re: " + subject, unless it already starts with a reply prefix (Re:,
/// RE:, AW:, SV:, ...), so a thread never grows "Re: Re:".
std::string reply_subject(std::string_view subject);

/// "Fwd: " + subject, unless it already starts with Fwd:, Fw: or WG:.
std::string forward_subject(std::string_view subject);

/// Who a reply goes to: Reply-To, else From (if that is the account itself,
/// the original's To); with `reply_all` also the original's To and Cc in
/// Cc. None of the account's own addresses (`own_addresses`: its address
/// and aliases) appears; nobody appears twice. Time O(recipients) (a hash
/// set, not a search per recipient).
void derive_reply_recipients(const original_message& original, bool reply_all,
                             const std::vector<std::string>& own_addresses,
                             std::vector<address>& to,
                             std::vector<address>& cc);

/// "On <date>, <sender> wrote:" and the original's lines prefixed "> ".
/// Linear; at most `max_text_bytes`: a longer original is cut at half of
/// it (a quote at most doubles it), with a "[… cut: …]" line.
std::string quoted_original(const original_message& original);

/// The heading of a forwarded message (From, Date, Subject, To, Cc) and its
/// text, cut at `max_text_bytes` with a "[… cut: …]" line.
std::string forwarded_original(const original_message& original);

/// Completes the agent's reply: recipients derived (plus those the agent
/// added), subject, In-Reply-To = the original's Message-ID, References =
/// its References + its Message-ID, the quoted original when `quote`.
outgoing_message compose_reply(const original_message& original,
                               const compose_request& request,
                               const std::vector<std::string>& own_addresses);

/// The first of `own_addresses` the original was sent to (its To, then its
/// Cc; compared without case), spelled as in `own_addresses`; empty when
/// none was. Replies and forwards go out from it by default.
std::string addressed_to(const original_message& original,
                         const std::vector<std::string>& own_addresses);

/// Completes the agent's forward: "Fwd:" subject, the agent's note above
/// the forwarded original, the original's files before the agent's own.
outgoing_message compose_forward(const original_message& original,
                                 const compose_request& request);

} // namespace postern::mime
