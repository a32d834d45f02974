// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "postern/account.hpp"
#include "postern/host_policy.hpp"
#include "postern/imap/budget.hpp"
#include "postern/imap/canceller.hpp"
#include "postern/imap/message_cache.hpp"
#include "postern/imap/types.hpp"
#include "postern/mime/attachment.hpp"
#include "postern/mime/compose.hpp"
#include "postern/secret.hpp"

#include <caf/error.hpp>
#include <caf/expected.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

struct mailimap;
struct mailimap_set;
struct mailimap_search_key;
struct mailimap_fetch_type;
struct clist_s;
struct _mailstream;

namespace postern::imap {

/// Settings of a session that are not part of the account.
struct session_options {
  /// PEM file of CA certificates to trust instead of the system store (a
  /// private mail server's CA), or empty.
  std::string ca_file;
  /// Bound for every network step: DNS + TCP connect, TLS handshake, and
  /// each read and write of every command.
  std::chrono::seconds timeout{30};
  /// Bound for one whole operation (connect, a listing, a read, ...),
  /// however slowly the server trickles its answer: each read has
  /// `timeout`, but a server that sends a byte now and then would otherwise
  /// hold the call forever. Exceeding it kills the connection.
  std::chrono::seconds operation_timeout{120};
  /// Which resolved addresses may be connected to (ACCOUNT_HOST_DENY); the
  /// default allows every address. Checked on the very addresses connected
  /// to, after the one DNS lookup.
  host_policy hosts;
  /// Text parts larger than this are fetched only partly (and the message is
  /// marked `incomplete`).
  uint64_t max_text_part_bytes = 4 * 1024 * 1024;
  /// Message facts and texts shared by the connections of the process (may
  /// be null), and the account they are filed under in it.
  std::shared_ptr<message_cache> cache;
  std::string cache_account;
  /// Thread with the server's THREAD=REFERENCES when it offers it; off,
  /// get_thread searches Message-ID/References/In-Reply-To itself (tests
  /// use this to run the fallback against a server that has THREAD).
  bool server_threading = true;
  /// What the server may send (see budget_limits); a server over budget
  /// gets its connection dropped and `ec::over_budget`.
  budget_limits budget;
  /// The account's label, for the sentence of `ec::over_budget` (never the
  /// host, user or password).
  std::string account_label;
  /// Bodies and attachments are fetched in partial FETCHes of at most this
  /// many bytes (never by the size BODYSTRUCTURE claims).
  uint64_t fetch_chunk_bytes = 1024 * 1024;
  /// Most folders one LIST may name, and most parts one message's
  /// structure may have (more are not shown).
  uint64_t max_folders = 10000;
  uint64_t max_parts = 1000;
  /// How connect() signs in: LOGIN with the password (the default), or
  /// AUTHENTICATE XOAUTH2 / OAUTHBEARER with the "password" being an OAuth
  /// access token.
  sasl_mechanism sasl = sasl_mechanism::password;
  /// Tests and fuzzing only: makes the connection's stream instead of DNS,
  /// TCP and TLS (a libetpan mailstream over memory, say), for servers with
  /// `transport_security::plain`; the budget and everything after the
  /// greeting work as over a socket. Null (the default) connects.
  std::function<_mailstream*()> open_stream;
};

/// Most messages a thread_result lists (its `total` counts them all).
inline constexpr size_t max_thread_messages = 100;

/// Most UIDs of one bulk change.
inline constexpr size_t max_bulk_uids = 100;

/// One IMAP connection: connect, TLS/STARTTLS with certificate
/// verification, LOGIN, then folder and message operations.
///
/// Every call blocks the calling thread (bounded by the timeout) and a
/// session must only ever be used from one thread at a time; only
/// `cancel()` may be called from another thread. Every failure is an
/// `ec` error with a sentence for the user. After a connection-level
/// failure (`connection_failed`, `timed_out`, `protocol_violation`,
/// `cancelled`) the session is dead: `usable()` turns false and the owner
/// should make a new one.
class session {
public:
  explicit session(session_options options = {});
  ~session();

  session(const session&) = delete;
  session& operator=(const session&) = delete;

  // -- connection ------------------------------------------------------------

  /// Connects to `server`, secures the connection as its `security` says
  /// (STARTTLS is required when asked for; `plain` only when asked for),
  /// verifies the certificate and host name, logs in and reads the
  /// capabilities. The password is not kept.
  caf::error connect(const server_settings& server, const secret& password);

  /// Whether the session is logged in and its connection still usable.
  bool usable() const noexcept {
    return usable_;
  }

  /// What the server supports (valid after connect()).
  const imap::capabilities& capabilities() const noexcept {
    return caps_;
  }

  /// Interrupts blocking I/O; callable from any thread (see canceller).
  void cancel() noexcept;

  /// A handle for cancelling from another thread that may outlive `this`.
  std::shared_ptr<canceller> cancel_handle() const noexcept {
    return canceller_;
  }

  /// Checks the connection (NOOP), e.g. before reusing an idle session.
  caf::error noop();

  /// Logs out politely (bounded by the timeout) and closes the connection.
  void logout();

  // -- folders ---------------------------------------------------------------

  /// All folders (LIST "" "*"), names decoded; with `with_counts`, also the
  /// message and unseen counts of every selectable folder (STATUS).
  caf::expected<std::vector<folder>> list_folders(bool with_counts = false);

  /// The folder with RFC 6154 role `role` (e.g. "\\Sent"), falling back to
  /// common names ("Sent", "Sent Items", ...) when the server does not mark
  /// roles. Fails with `ec::no_such_folder` if there is none.
  caf::expected<std::string> find_special_use(std::string_view role);

  // -- messages --------------------------------------------------------------

  /// A page of `folder`, newest first (by UID).
  caf::expected<message_page> list_messages(const std::string& folder,
                                            const page_request& request);

  /// Reads one message: BODYSTRUCTURE first, then only its text parts.
  /// Fails with `ec::no_such_message` if the UID does not exist.
  caf::expected<message> read_message(const std::string& folder, uint32_t uid,
                                      const read_options& options = {});

  /// Reads several messages (in the given order); a missing UID gives an
  /// outcome with an error, not a failure of the whole call.
  caf::expected<std::vector<read_outcome>>
  read_messages(const std::string& folder, const std::vector<uint32_t>& uids,
                const read_options& options = {});

  /// Searches `folder` (UID SEARCH, CHARSET UTF-8 when needed).
  caf::expected<search_result> search(const std::string& folder,
                                      const search_query& query);

  /// Moves a message: UID MOVE if advertised, else UID COPY + \Deleted +
  /// UID EXPUNGE of just that UID with UIDPLUS, else `ec::not_supported`.
  /// A missing UID or destination is an error.
  caf::expected<move_result> move(const std::string& folder, uint32_t uid,
                                  const std::string& destination);

  /// Adds and removes flags; reports the flags the server has afterwards.
  caf::expected<flag_result> set_flags(const std::string& folder, uint32_t uid,
                                       const flag_change& change);

  /// Appends a message (e.g. a copy of a sent one) with `flags` such as
  /// "\\Seen". Fails with `ec::no_such_folder` if the folder is missing.
  caf::expected<append_result> append(const std::string& folder,
                                      std::string_view data,
                                      const std::vector<std::string>& flags);

  // -- conversations, bulk changes, folders (organize.cpp) ------------------

  /// The conversation of message `uid` in `folder`, oldest first: UID
  /// THREAD REFERENCES when the server has it, else a search for the
  /// Message-IDs linked by References/In-Reply-To (repeated until nothing
  /// new turns up), joined by the replies in Sent that link to it (found by
  /// their headers), each message with its folder. Fails with
  /// `ec::no_such_message` for an unknown UID.
  caf::expected<thread_result> thread(const std::string& folder, uint32_t uid);

  /// Moves, copies, flags or deletes several messages of one folder; a
  /// missing UID gets an outcome with an error, not a failure of the whole
  /// call. Delete moves to the special-use Trash; only messages already in
  /// Trash are removed for good, with UID EXPUNGE of exactly their UIDs
  /// (never a folder-wide EXPUNGE; without UIDPLUS, `ec::not_supported`).
  caf::expected<bulk_result> change_messages(const bulk_request& request);

  /// Creates, renames or deletes a folder (names sent in modified UTF-7).
  /// INBOX and special-use folders (and folders holding them) cannot be
  /// renamed or deleted, and a folder that still holds messages is not
  /// deleted (`ec::invalid_argument`: `ec::forbidden` would make the
  /// ACCOUNT treat the refusal as a connection failure). Answers the folder as
  /// listed afterwards (for delete: as it was).
  caf::expected<folder> change_folder(const folder_change& change);

  /// Searches every selectable folder; a folder that fails is reported in
  /// `errors` and the others still count.
  caf::expected<multi_search_result>
  search_everywhere(const search_query& query);

  // -- composing -------------------------------------------------------------

  /// Fetches one part of a message by the part id read_message lists, and
  /// decodes it: to UTF-8 text for text-like parts, to bytes otherwise.
  /// Fails with `ec::no_such_message`, `ec::no_such_part`, or
  /// `ec::too_large` above the limit of the part's kind (checked against
  /// the server's size before fetching, and again after decoding).
  caf::expected<mime::attachment_content>
  fetch_attachment(const std::string& folder, uint32_t uid,
                   const std::string& part_id,
                   const mime::attachment_limits& limits);

  /// Reads what a reply or forward needs of a message: headers, text and,
  /// with `with_files`, the decoded bytes of its attachments (failing with
  /// `ec::too_large` when they exceed `max_file_bytes` together).
  caf::expected<mime::original_message>
  fetch_original(const std::string& folder, uint32_t uid, bool with_files,
                 uint64_t max_file_bytes);

private:
  struct fetched;
  struct flagged;

  caf::error open_stream(const server_settings& server);
  /// Reads the greeting over a connected stream (which it owns from then).
  caf::error greet(_mailstream* stream, const std::string& where);
  caf::error start_tls();
  caf::error login(const server_settings& server, const secret& password);
  /// The tag of the next hand-written command, from libetpan's own tag
  /// counter (so its commands go on from there).
  std::string next_tag();
  /// AUTHENTICATE with options_.sasl and an access token (flags_fetch.cpp
  /// reads its answers, as it reads FETCH's).
  caf::error authenticate(const server_settings& server, const secret& token);
  caf::error refresh_capabilities();
  caf::error select(const std::string& folder);
  caf::error check_usable();
  caf::error interrupted() const;
  caf::error command_error(int rc, std::string_view action);
  caf::error folder_error(const std::string& folder, int rc,
                          std::string_view action);
  bool folder_exists(const std::string& wire);
  /// UID SEARCH for `key` in the selected folder, without CHARSET: the
  /// UIDs found, or the command's error naming `action`.
  caf::expected<std::vector<uint32_t>> uid_search(mailimap_search_key* key,
                                                  std::string_view action);
  /// UID FETCH of `type` for one message; on success `*list` holds the
  /// answer (the caller frees it), else the error names `action`.
  caf::error uid_fetch_one(uint32_t uid, mailimap_fetch_type* type,
                           std::string_view action, clist_s** list);
  caf::expected<std::vector<fetched>>
  fetch_summaries(mailimap_set* set, bool by_uid, bool with_references);
  /// FETCH (UID FLAGS) of `set`, written and read by hand (flags_fetch.cpp).
  caf::expected<std::vector<flagged>> fetch_flags(mailimap_set* set,
                                                  bool by_uid);
  /// One response (lines and literals) of a command written by hand, in
  /// `response`; a MAILIMAP_ERROR code.
  int read_one_response(std::string& response);
  /// Summaries of `messages` from the cache, fetching what it lacks; with
  /// `with_structure` also the rest of their facts (MIME structure,
  /// references), which a listing does not need.
  caf::expected<std::vector<fetched>>
  cached_summaries(const std::vector<flagged>& messages, bool with_structure);
  caf::expected<std::string> fetch_text(uint32_t uid,
                                        const mime::body_plan& plan,
                                        bool& incomplete, bool& html);
  caf::expected<bulk_result> change_one(const bulk_request& request);
  // Listing, in pages: how many UIDs are at or above `uid`, and the
  // summaries of sequence numbers first..last (from the cache when on).
  caf::expected<uint32_t> count_uids_from(uint32_t uid);
  caf::expected<std::vector<fetched>> page_summaries(uint32_t first,
                                                     uint32_t last);
  caf::expected<std::vector<fetched>>
  read_summaries(std::vector<uint32_t> uids);
  caf::expected<std::string> cached_text(uint32_t uid,
                                         const mime::body_plan& plan,
                                         bool& incomplete, bool& html);
  // The steps of change_messages.
  caf::error choose_removal(const std::string& folder, bulk_result& result,
                            bool& for_good);
  caf::error change_flags(const std::vector<uint32_t>& targets,
                          const bulk_request& req, bulk_result& result);
  // The steps of list_folders and change_folder.
  caf::error add_counts(std::vector<folder>& folders,
                        const std::vector<std::string>& wires);
  caf::expected<folder> folder_as_listed(const std::string& name,
                                         const std::string& delimiter);
  caf::expected<folder> create_folder(const std::string& name,
                                      const std::vector<folder>& folders,
                                      const std::string& delimiter);
  caf::expected<folder> rename_folder(const folder_change& change,
                                      const std::vector<folder>& folders,
                                      const std::string& delimiter);
  caf::error check_empty(const folder& target, const std::string& name,
                         const std::string& wire);
  caf::expected<folder> delete_folder(const std::string& name,
                                      const std::vector<folder>& folders);
  caf::expected<std::vector<uint32_t>>
  existing_uids(const std::vector<uint32_t>& uids);
  caf::expected<std::vector<std::pair<uint32_t, uint32_t>>>
  transfer(const std::vector<uint32_t>& uids, const std::string& destination,
           bool remove_source);
  caf::error expunge_exactly(const std::vector<uint32_t>& uids);
  caf::expected<std::vector<uint32_t>> thread_by_server(uint32_t uid);
  caf::expected<std::vector<uint32_t>>
  thread_by_headers(uint32_t uid, std::vector<fetched>& seen);
  /// The UIDs of the selected folder, ascending, of messages whose
  /// Message-ID, References or In-Reply-To names one of `ids`.
  caf::expected<std::vector<uint32_t>>
  search_linked(const std::vector<std::string>& ids, std::string_view action);
  /// Adds to `into` the messages of the Sent folder (when it is not
  /// `folder`) that link to one of `ids` and are not among them, and
  /// counts them in its total; nothing when there is no Sent.
  caf::error thread_in_sent(const std::string& folder,
                            std::vector<std::string> ids,
                            thread_result& into);
  /// The MIME structure of one message; `ec::no_such_message` if the UID
  /// does not exist in the selected folder.
  caf::expected<mime::part> fetch_structure(uint32_t uid,
                                            const std::string& folder);
  /// The raw (transfer-encoded) bytes of sections of one message, each
  /// at most its `max` bytes, fetched in partial FETCHes of at most
  /// `fetch_chunk_bytes` (a few sections per FETCH, within the response
  /// budget), never by the size the server announced. `more` names the
  /// sections that have bytes beyond their `max`. With `total_max` (0:
  /// none), fails with `ec::too_large` once all sections together exceed
  /// it.
  struct section_request {
    std::string section;
    uint64_t max = 0;
  };
  struct fetched_sections {
    std::map<std::string, std::string> bodies;
    std::map<std::string, bool> more;
  };
  caf::expected<fetched_sections>
  fetch_sections(uint32_t uid, const std::vector<section_request>& sections,
                 uint64_t total_max = 0);
  void close_stream() noexcept;
  std::string server_text() const;
  /// Before each libetpan command: notes the time (tells timeouts from
  /// resets) and starts the command's byte budget.
  void start_call() noexcept;

  session_options options_;
  std::shared_ptr<canceller> canceller_;
  std::shared_ptr<budget_tracker> budget_;
  mailimap* imap_ = nullptr;
  std::string host_;
  /// The password or access token once it was sent (LOGIN, AUTHENTICATE):
  /// from then on a server may echo it in any response, so every server
  /// text that reaches an error is redacted with it (without_secrets).
  secret sent_password_;
  /// The SASL initial responses (base64, XOAUTH2 and OAUTHBEARER) that
  /// carry sent_password_ for this user and server: the one AUTHENTICATE
  /// sent, and the forms a server that got a LOGIN password could make of
  /// it. Redacted like the password itself.
  std::vector<secret> sent_forms_;

  /// Notes `password` as sent by `user` (see sent_password_).
  void remember_sent(const secret& password, const std::string& user);

  /// `text` without the password and its SASL forms.
  std::string without_secrets(std::string text) const;
  uint16_t port_ = 0;
  bool usable_ = false;
  imap::capabilities caps_;
  // The selected mailbox (wire name) and its state.
  std::string selected_;
  uint32_t uid_validity_ = 0;
  // When the current libetpan call started (tells timeouts from resets).
  std::chrono::steady_clock::time_point call_start_;
};

} // namespace postern::imap
