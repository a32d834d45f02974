// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "postern/account.hpp"
#include "postern/fwd.hpp"
#include "postern/ids.hpp"
#include "postern/imap/types.hpp"
#include "postern/mime/attachment.hpp"
#include "postern/mime/compose.hpp"
#include "postern/mime/message_builder.hpp"
#include "postern/outbox.hpp"
#include "postern/send_rules.hpp"

#include <caf/meta/type_name.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace postern {

/// Whose mailbox a request is for: the user and account of the caller's
/// grant. The MAIL ROUTER finds (or starts) that account's ACCOUNT actor.
struct mailbox_ref {
  user_id user;
  account_id account;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, mailbox_ref& x) {
  return f(caf::meta::type_name("mailbox_ref"), x.user, x.account);
}

/// The outcome of sending a message.
struct sent_message {
  /// The Message-ID of the sent message, with angle brackets.
  std::string message_id;
  /// The From address it went out with (or waits with).
  std::string from;
  /// The folder a copy was saved to, empty if saving failed.
  std::string sent_folder;
  /// The copy's UID there when the server said (UIDPLUS), else 0.
  uint32_t sent_uid = 0;
  /// Why the copy could not be saved (the message was sent regardless).
  std::string save_error;
  /// The connection must ask first: nothing was sent; `held` is the built
  /// and checked message, for the caller to put in the person's outbox.
  bool awaiting_approval = false;
  held_message held;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, sent_message& x) {
  return f(caf::meta::type_name("sent_message"), x.message_id, x.from,
           x.sent_folder, x.sent_uid, x.save_error, x.awaiting_approval,
           x.held);
}

/// What the MAIL ROUTER reports for /metrics.
struct mail_status {
  /// IMAP connections open or being opened (connection permits held).
  int64_t connections = 0;
  /// ACCOUNT actors alive.
  int64_t accounts = 0;
  /// The decoded-message cache: hits, misses and bytes held.
  int64_t cache_hits = 0;
  int64_t cache_misses = 0;
  int64_t cache_bytes = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, mail_status& x) {
  return f(caf::meta::type_name("mail_status"), x.connections, x.accounts,
           x.cache_hits, x.cache_misses, x.cache_bytes);
}

/// What a connection test found, in words for the person who typed the
/// settings.
struct probe_report {
  bool imap_ok = false;
  /// "Logged in to imap.example.com:993 (TLS)." or the error sentence.
  std::string imap_message;
  /// False when the account has no SMTP server.
  bool smtp_tested = false;
  bool smtp_ok = false;
  std::string smtp_message;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, probe_report& x) {
  return f(caf::meta::type_name("probe_report"), x.imap_ok, x.imap_message,
           x.smtp_tested, x.smtp_ok, x.smtp_message);
}

/// The mail operations on one mailbox, shared by the MAIL ROUTER (which
/// everyone talks to) and the ACCOUNT actors (to which the router delegates
/// each request unchanged). Failures are `ec` errors whose context is a
/// sentence for the user (wrong password, host unreachable, certificate
/// invalid, folder or UID missing, the server's NO/BAD text).
using mailbox_operations_actor = caf::typed_actor<
  // Lists folders, optionally with message/unseen counts.
  caf::replies_to<atom::folders, mailbox_ref,
                  bool>::with<std::vector<imap::folder>>,
  // Lists a page of a folder, newest first.
  caf::replies_to<atom::messages, mailbox_ref, std::string,
                  imap::page_request>::with<imap::message_page>,
  // Reads messages by UID (a missing UID is reported in its outcome).
  caf::replies_to<atom::read, mailbox_ref, std::string, std::vector<uint32_t>,
                  imap::read_options>::with<std::vector<imap::read_outcome>>,
  // Searches a folder.
  caf::replies_to<atom::search, mailbox_ref, std::string,
                  imap::search_query>::with<imap::search_result>,
  // Moves a message to another folder (args: folder, uid, destination).
  caf::replies_to<atom::move, mailbox_ref, std::string, uint32_t,
                  std::string>::with<imap::move_result>,
  // Adds/removes flags on a message (args: folder, uid, change).
  caf::replies_to<atom::flag, mailbox_ref, std::string, uint32_t,
                  imap::flag_change>::with<imap::flag_result>,
  // Sends a message over the account's SMTP and saves a copy to Sent. The
  // sender is the account's address unless set.
  // The connection's send rules may refuse a recipient (forbidden).
  // A connection that must ask first gets the message built, checked and
  // not sent (sent_message::awaiting_approval).
  caf::replies_to<atom::send, mailbox_ref, mime::outgoing_message,
                  send_rules>::with<sent_message>,
  // Sends a message built earlier (held for the person's yes, then
  // approved) and saves a copy to Sent; counts against the send limit.
  caf::replies_to<atom::deliver, mailbox_ref,
                  mime::built_message>::with<sent_message>,
  // The conversation of a message (args: folder, uid); no_such_message.
  caf::replies_to<atom::thread, mailbox_ref, std::string,
                  uint32_t>::with<imap::thread_result>,
  // Moves, copies, flags or deletes several messages, one outcome per UID.
  caf::replies_to<atom::bulk, mailbox_ref,
                  imap::bulk_request>::with<imap::bulk_result>,
  // Creates, renames or deletes a folder; answers the folder
  // (invalid_argument for INBOX, special-use and non-empty folders,
  // already_exists, no_such_folder).
  caf::replies_to<atom::folder_op, mailbox_ref,
                  imap::folder_change>::with<imap::folder>,
  // Searches every selectable folder; per-folder failures in the result.
  caf::replies_to<atom::search_all, mailbox_ref,
                  imap::search_query>::with<imap::multi_search_result>,
  // Fetches one attachment of a message (args: folder, uid, part id),
  // decoded, within the configured size limits.
  caf::replies_to<atom::attachment, mailbox_ref, std::string, uint32_t,
                  std::string>::with<mime::attachment_content>,
  // The same part within limits the caller chooses (args: folder, uid,
  // part id, limits): a download link's whole part, or only what it is
  // (describe_only) to make the link.
  caf::replies_to<atom::download, mailbox_ref, std::string, uint32_t,
                  std::string,
                  mime::attachment_limits>::with<mime::attachment_content>,
  // Sends, or saves to Drafts, a new message, a reply or a forward; sending
  // counts against the account's send rate limit.
  // Drafts ignore the send rules (the person sends them); sending obeys them.
  caf::replies_to<atom::compose, mailbox_ref, mime::compose_request,
                  send_rules>::with<mime::composed_message>>;

/// The MAIL ROUTER actor interface: every mail operation of every user goes
/// through it. It enforces the global and per-user connection limits and
/// hands each request to the ACCOUNT actor of (user, account).
using mail_actor = mailbox_operations_actor::extend<
  // Tests settings before they are saved: logs into IMAP (and SMTP, if
  // set) with the given passwords, then disconnects. Never fails: the
  // report says what happened.
  caf::replies_to<atom::probe, account_settings,
                  account_credentials>::with<probe_report>,
  // Reports connection and account counts.
  caf::replies_to<atom::status>::with<mail_status>,
  // Forgets the cached connections and login failure of an account (after
  // its settings or password changed, or it was deleted).
  caf::reacts_to<atom::forget, mailbox_ref>>;

} // namespace postern
