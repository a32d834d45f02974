// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "postern/mime/address.hpp"
#include "postern/mime/structure.hpp"

#include <caf/error.hpp>
#include <caf/meta/type_name.hpp>

#include <cstdint>
#include <string>
#include <vector>

// Value types the IMAP session returns. They are plain, copyable and have
// CAF `inspect` overloads so actors can carry them in messages. Every string
// is valid UTF-8. "Empty" stands for "absent" (CAF 0.17 cannot inspect
// std::optional).

namespace postern::imap {

using mime::address;
using mime::attachment;

/// One mailbox from LIST.
struct folder {
  /// Full name, decoded from modified UTF-7: what callers pass back.
  std::string name;
  /// Hierarchy delimiter ("/", "."), empty for a flat namespace.
  std::string delimiter;
  /// RFC 6154 role ("\\Sent", "\\Trash", ...; "\\Inbox" for INBOX) or empty.
  std::string special_use;
  /// All LIST attributes as the server sent them ("\\HasChildren", ...).
  std::vector<std::string> attributes;
  /// False for \Noselect / \NonExistent containers.
  bool selectable = true;
  /// Whether `messages` and `unseen` were requested and known (STATUS).
  bool has_counts = false;
  uint32_t messages = 0;
  uint32_t unseen = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, folder& x) {
  return f(caf::meta::type_name("folder"), x.name, x.delimiter, x.special_use,
           x.attributes, x.selectable, x.has_counts, x.messages, x.unseen);
}

/// The envelope-level view of a message (list and search results).
struct message_summary {
  uint32_t uid = 0;
  /// Decoded Subject, empty if there is none.
  std::string subject;
  std::vector<address> from;
  std::vector<address> to;
  std::vector<address> cc;
  /// The Date header as ISO 8601 in UTC ("2026-11-26T06:00:00Z"), empty if
  /// missing or unparsable.
  std::string date;
  /// When the server received the message (INTERNALDATE), ISO 8601 UTC.
  std::string received;
  /// IMAP flags as sent ("\\Seen", "\\Flagged", "$Forwarded", ...).
  std::vector<std::string> flags;
  /// RFC822.SIZE in bytes.
  uint64_t size = 0;
  /// From BODYSTRUCTURE: an attached file or a forwarded message.
  bool has_attachments = false;
  /// "<id@host>" or empty.
  std::string message_id;
  std::string in_reply_to;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, message_summary& x) {
  return f(caf::meta::type_name("message_summary"), x.uid, x.subject, x.from,
           x.to, x.cc, x.date, x.received, x.flags, x.size, x.has_attachments,
           x.message_id, x.in_reply_to);
}

/// Which page of a folder to list, newest first.
struct page_request {
  /// 1-based page; values below 1 mean 1. Ignored when `cursor` is set.
  int64_t page = 1;
  /// Messages per page, clamped to 1..50.
  int64_t page_size = 20;
  /// A `message_page::next_cursor` from an earlier call, or empty.
  std::string cursor;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, page_request& x) {
  return f(caf::meta::type_name("page_request"), x.page, x.page_size, x.cursor);
}

/// One page of a folder listing.
struct message_page {
  std::vector<message_summary> messages;
  /// Messages in the folder now.
  uint32_t total = 0;
  /// The page and page size actually used (after clamping).
  uint32_t page = 1;
  uint32_t page_size = 20;
  /// Continues after the last message of this page even if new mail
  /// arrives meanwhile; empty when there is nothing more.
  std::string next_cursor;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, message_page& x) {
  return f(caf::meta::type_name("message_page"), x.messages, x.total, x.page,
           x.page_size, x.next_cursor);
}

/// Which part of a message's text to return.
struct read_options {
  /// First code point of the text to return.
  uint64_t offset = 0;
  /// At most this many code points; 0 means no limit.
  uint64_t max_length = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, read_options& x) {
  return f(caf::meta::type_name("read_options"), x.offset, x.max_length);
}

/// A message read for a person: decoded headers, readable text, attachments.
struct message {
  /// Envelope, flags, size, date, attachment flag.
  message_summary summary;
  std::vector<address> reply_to;
  std::vector<address> bcc;
  /// Message-IDs of the References header, oldest first.
  std::vector<std::string> references;
  /// The requested window of the text.
  std::string body;
  /// "text/plain", or "text/html" when the text was converted from HTML, or
  /// empty when the message has no text.
  std::string body_format;
  /// Length of the whole text in code points; the window is
  /// [offset, offset + body length).
  uint64_t body_length = 0;
  uint64_t offset = 0;
  /// Whether text follows after this window.
  bool truncated = false;
  /// Whether a very large text part was only partly fetched.
  bool incomplete = false;
  std::vector<attachment> attachments;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, message& x) {
  return f(caf::meta::type_name("message"), x.summary, x.reply_to, x.bcc,
           x.references, x.body, x.body_format, x.body_length, x.offset,
           x.truncated, x.incomplete, x.attachments);
}

/// The result of reading one of several UIDs: a message or an error.
struct read_outcome {
  uint32_t uid = 0;
  /// Valid when `error` is empty.
  message msg;
  /// E.g. `ec::no_such_message`.
  caf::error error;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, read_outcome& x) {
  return f(caf::meta::type_name("read_outcome"), x.uid, x.msg, x.error);
}

/// Search criteria; all given criteria must match (AND). Strings are UTF-8
/// and matched as substrings, case-insensitively, by the server.
struct search_query {
  /// Subject or body (the original tool's `query`).
  std::string query;
  std::string from;
  std::string to;
  std::string subject;
  std::string body;
  /// Anywhere in headers or body.
  std::string text;
  /// Received on or after / before this day: strict "YYYY-MM-DD".
  std::string since;
  std::string before;
  /// Only unseen / flagged / answered messages when true.
  bool unseen = false;
  bool flagged = false;
  bool answered = false;
  /// Results to return, clamped to 1..50; newest first.
  int64_t limit = 20;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, search_query& x) {
  return f(caf::meta::type_name("search_query"), x.query, x.from, x.to,
           x.subject, x.body, x.text, x.since, x.before, x.unseen, x.flagged,
           x.answered, x.limit);
}

struct search_result {
  /// The newest `limit` matches, newest first.
  std::vector<message_summary> messages;
  /// All matches.
  uint32_t total = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, search_result& x) {
  return f(caf::meta::type_name("search_result"), x.messages, x.total);
}

/// What to do with one flag.
enum class flag_action : uint8_t { keep, add, remove };

/// Flags to change on a message.
struct flag_change {
  flag_action seen = flag_action::keep;
  flag_action flagged = flag_action::keep;
  flag_action answered = flag_action::keep;
  flag_action deleted = flag_action::keep;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, flag_change& x) {
  return f(caf::meta::type_name("flag_change"), x.seen, x.flagged, x.answered,
           x.deleted);
}

struct flag_result {
  uint32_t uid = 0;
  /// The flags asked to be added / removed ("\\Seen", ...).
  std::vector<std::string> added;
  std::vector<std::string> removed;
  /// The message's flags afterwards, as the server reports them.
  std::vector<std::string> flags;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, flag_result& x) {
  return f(caf::meta::type_name("flag_result"), x.uid, x.added, x.removed,
           x.flags);
}

struct move_result {
  uint32_t uid = 0;
  std::string destination;
  /// The message's UID in the destination when the server said (UIDPLUS),
  /// else 0.
  uint32_t new_uid = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, move_result& x) {
  return f(caf::meta::type_name("move_result"), x.uid, x.destination,
           x.new_uid);
}

struct append_result {
  std::string folder;
  /// The new message's UID when the server said (UIDPLUS), else 0.
  uint32_t uid = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, append_result& x) {
  return f(caf::meta::type_name("append_result"), x.folder, x.uid);
}

// -- conversations, bulk changes, folder changes, every-folder search -------

/// One message and the folder it is in: found by a search of every folder,
/// or a member of a conversation that spans folders.
struct found_message {
  std::string folder;
  message_summary summary;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, found_message& x) {
  return f(caf::meta::type_name("found_message"), x.folder, x.summary);
}

/// A conversation (get_thread): the messages of a folder that belong to the
/// same thread as a given message, with the replies that are in Sent.
struct thread_result {
  /// Oldest first (Date header, else arrival, then UID); at most
  /// `max_thread_messages`, the newest ones when there are more.
  std::vector<found_message> messages;
  /// Messages in the conversation.
  uint32_t total = 0;
  /// How the conversation was found: "THREAD=REFERENCES" (the server
  /// threaded it) or "headers" (Message-ID/References/In-Reply-To searches).
  std::string method;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, thread_result& x) {
  return f(caf::meta::type_name("thread_result"), x.messages, x.total,
           x.method);
}

/// What a bulk change does to each message.
enum class bulk_kind : uint8_t {
  move,
  copy,
  flag,
  /// delete_message: into Trash, or out for good when already in Trash.
  remove,
};

/// One change applied to several messages of a folder.
struct bulk_request {
  bulk_kind kind = bulk_kind::move;
  std::string folder;
  std::vector<uint32_t> uids;
  /// For move and copy.
  std::string destination;
  /// For flag.
  flag_change change;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, bulk_request& x) {
  return f(caf::meta::type_name("bulk_request"), x.kind, x.folder, x.uids,
           x.destination, x.change);
}

/// What happened to one message of a bulk change.
struct bulk_outcome {
  uint32_t uid = 0;
  /// Set when this message was not changed (e.g. `ec::no_such_message`).
  caf::error error;
  /// Its UID in the destination when the server said (UIDPLUS), else 0.
  uint32_t new_uid = 0;
  /// For flag: the message's flags afterwards.
  std::vector<std::string> flags;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, bulk_outcome& x) {
  return f(caf::meta::type_name("bulk_outcome"), x.uid, x.error, x.new_uid,
           x.flags);
}

struct bulk_result {
  bulk_kind kind = bulk_kind::move;
  std::string folder;
  /// Where the messages went (for remove: the Trash folder); empty when
  /// they were removed for good.
  std::string destination;
  /// For flag: the flags asked to be added / removed.
  std::vector<std::string> added;
  std::vector<std::string> removed;
  /// One per requested UID, in the order asked.
  std::vector<bulk_outcome> outcomes;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, bulk_result& x) {
  return f(caf::meta::type_name("bulk_result"), x.kind, x.folder, x.destination,
           x.added, x.removed, x.outcomes);
}

enum class folder_action : uint8_t { create, rename, remove };

/// A change to the folder tree.
struct folder_change {
  folder_action action = folder_action::create;
  /// The folder to create, rename or delete (UTF-8, full path).
  std::string name;
  /// For rename: the new full path.
  std::string new_name;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, folder_change& x) {
  return f(caf::meta::type_name("folder_change"), x.action, x.name, x.new_name);
}


/// A folder a search of every folder could not search.
struct folder_failure {
  std::string folder;
  /// The reason, a sentence.
  std::string error;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, folder_failure& x) {
  return f(caf::meta::type_name("folder_failure"), x.folder, x.error);
}

struct multi_search_result {
  /// The newest `limit` matches of all folders, newest first.
  std::vector<found_message> messages;
  /// All matches in the folders searched.
  uint32_t total = 0;
  /// Selectable folders searched successfully.
  uint32_t folders_searched = 0;
  std::vector<folder_failure> errors;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, multi_search_result& x) {
  return f(caf::meta::type_name("multi_search_result"), x.messages, x.total,
           x.folders_searched, x.errors);
}

/// What the server supports (after login).
struct capabilities {
  bool move = false;
  bool uidplus = false;
  bool special_use = false;
  bool condstore = false;
  bool qresync = false;
  bool idle = false;
  bool esearch = false;
  bool literal_plus = false;
  bool list_status = false;
  /// Advertised but never used: Debian's libetpan is built without zlib.
  bool compress = false;
  /// Every capability as sent, uppercase.
  std::vector<std::string> all;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, capabilities& x) {
  return f(caf::meta::type_name("capabilities"), x.move, x.uidplus,
           x.special_use, x.condstore, x.qresync, x.idle, x.esearch,
           x.literal_plus, x.list_status, x.compress, x.all);
}

} // namespace postern::imap
