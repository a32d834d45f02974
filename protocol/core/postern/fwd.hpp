// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <caf/fwd.hpp>
#include <caf/type_id.hpp>

#include <cstdint>
#include <vector>

namespace postern {

enum class ec : uint8_t;
class secret;
struct account_credentials;
struct account_id;
struct account_settings;
struct audit_event;
struct access_grant;
struct grant_id;
struct grant_info;
struct grant_request;
struct oauth_client;
struct code_request;
struct code_exchange;
struct refresh_request;
struct token_pair;
struct token_revocation;
struct issued_token;
struct node_status;
struct sealed_credentials;
struct oauth_access;
struct server_settings;
struct send_rules;
struct held_message;
struct outbox_entry;
struct session_grant;
struct user_id;
struct user_info;
// The mail messages (actors/postern/actors/mail_actor.hpp).
struct mailbox_ref;
struct sent_message;
struct mail_status;
struct probe_report;

} // namespace postern

namespace postern::imap {

struct folder;
struct page_request;
struct message_page;
struct read_options;
struct read_outcome;
struct search_query;
struct search_result;
struct move_result;
struct flag_change;
struct flag_result;
struct thread_result;
struct bulk_request;
struct bulk_result;
struct folder_change;
struct multi_search_result;
struct append_result;

} // namespace postern::imap

namespace postern::mime {

struct outgoing_message;
struct attachment_limits;
struct attachment_content;
struct original_message;
struct compose_request;
struct composed_message;
struct built_message;

} // namespace postern::mime

// -- atoms --------------------------------------------------------------------

namespace postern::atom {

// Re-export CAF's built-in atoms instead of redefining them (VAST/Broker).
using get = caf::get_atom;
constexpr auto get_v = caf::get_atom_v;
using put = caf::put_atom;
constexpr auto put_v = caf::put_atom_v;
using ok = caf::ok_atom;
constexpr auto ok_v = caf::ok_atom_v;

} // namespace postern::atom

// The one place where Postern's atoms and message types get their type IDs.
// Atom text: at most 10 characters, and only [0-9A-Za-z_ ] survive (CAF 0.17
// maps anything else silently), so never carry protocol strings in atoms.
// Only the text is limited: the C++ names say the whole word
// (atom::update_account is "upd_acct" on the wire).
CAF_BEGIN_TYPE_ID_BLOCK(postern, caf::first_custom_type_id)

  CAF_ADD_ATOM(postern, postern::atom, status, "status")
  CAF_ADD_ATOM(postern, postern::atom, tick, "tick")
  // VAULT and its hashers
  CAF_ADD_ATOM(postern, postern::atom, seal, "seal")
  CAF_ADD_ATOM(postern, postern::atom, rotate, "rotate")
  CAF_ADD_ATOM(postern, postern::atom, hash, "hash")
  CAF_ADD_ATOM(postern, postern::atom, verify, "verify")
  // DIRECTORY
  CAF_ADD_ATOM(postern, postern::atom, add_user, "add_user")
  CAF_ADD_ATOM(postern, postern::atom, signup, "signup")
  CAF_ADD_ATOM(postern, postern::atom, login, "login")
  CAF_ADD_ATOM(postern, postern::atom, session, "session")
  CAF_ADD_ATOM(postern, postern::atom, logout, "logout")
  CAF_ADD_ATOM(postern, postern::atom, change_password, "passwd")
  CAF_ADD_ATOM(postern, postern::atom, find_user, "find_user")
  CAF_ADD_ATOM(postern, postern::atom, delete_user, "del_user")
  CAF_ADD_ATOM(postern, postern::atom, add_account, "add_acct")
  CAF_ADD_ATOM(postern, postern::atom, update_account, "upd_acct")
  CAF_ADD_ATOM(postern, postern::atom, delete_account, "del_acct")
  CAF_ADD_ATOM(postern, postern::atom, edit_credentials, "edit_creds")
  CAF_ADD_ATOM(postern, postern::atom, list, "list")
  CAF_ADD_ATOM(postern, postern::atom, audit, "audit")
  CAF_ADD_ATOM(postern, postern::atom, audit_log, "audit_log")
  CAF_ADD_ATOM(postern, postern::atom, invite, "invite")
  CAF_ADD_ATOM(postern, postern::atom, signin, "signin")
  CAF_ADD_ATOM(postern, postern::atom, signin_needed, "signin_req")
  // MAIL ROUTER, ACCOUNT, IMAP CONNECTION, SMTP SENDER
  CAF_ADD_ATOM(postern, postern::atom, folders, "folders")
  CAF_ADD_ATOM(postern, postern::atom, messages, "messages")
  CAF_ADD_ATOM(postern, postern::atom, read, "read")
  CAF_ADD_ATOM(postern, postern::atom, search, "search")
  CAF_ADD_ATOM(postern, postern::atom, move, "move")
  CAF_ADD_ATOM(postern, postern::atom, flag, "flag")
  CAF_ADD_ATOM(postern, postern::atom, send, "send")
  CAF_ADD_ATOM(postern, postern::atom, forget, "forget")
  CAF_ADD_ATOM(postern, postern::atom, save_sent, "save_sent")
  CAF_ADD_ATOM(postern, postern::atom, ping, "ping")
  CAF_ADD_ATOM(postern, postern::atom, acquire, "acquire")
  CAF_ADD_ATOM(postern, postern::atom, release, "release")
  CAF_ADD_ATOM(postern, postern::atom, probe, "probe")
  CAF_ADD_ATOM(postern, postern::atom, thread, "thread")
  CAF_ADD_ATOM(postern, postern::atom, bulk, "bulk")
  CAF_ADD_ATOM(postern, postern::atom, folder_op, "folder_op")
  CAF_ADD_ATOM(postern, postern::atom, search_all, "search_all")
  // composing: attachments, replies, forwards, drafts
  CAF_ADD_ATOM(postern, postern::atom, attachment, "attachment")
  CAF_ADD_ATOM(postern, postern::atom, download, "download")
  CAF_ADD_ATOM(postern, postern::atom, original, "original")
  CAF_ADD_ATOM(postern, postern::atom, compose, "compose")
  CAF_ADD_ATOM(postern, postern::atom, save_draft, "save_draft")
  CAF_ADD_ATOM(postern, postern::atom, hold, "hold")
  CAF_ADD_ATOM(postern, postern::atom, deliver, "deliver")
  CAF_ADD_ATOM(postern, postern::atom, discard, "discard")
  // TOKEN AUTHORITY
  CAF_ADD_ATOM(postern, postern::atom, validate, "validate")
  CAF_ADD_ATOM(postern, postern::atom, issue, "issue")
  CAF_ADD_ATOM(postern, postern::atom, revoke, "revoke")
  CAF_ADD_ATOM(postern, postern::atom, redeem, "redeem")
  CAF_ADD_ATOM(postern, postern::atom, refresh, "refresh")
  CAF_ADD_ATOM(postern, postern::atom, flush, "flush")

  CAF_ADD_TYPE_ID(postern, (postern::ec))
  CAF_ADD_TYPE_ID(postern, (postern::node_status))
  CAF_ADD_TYPE_ID(postern, (postern::secret))
  CAF_ADD_TYPE_ID(postern, (postern::user_id))
  CAF_ADD_TYPE_ID(postern, (postern::account_id))
  CAF_ADD_TYPE_ID(postern, (postern::user_info))
  CAF_ADD_TYPE_ID(postern, (postern::session_grant))
  CAF_ADD_TYPE_ID(postern, (postern::audit_event))
  CAF_ADD_TYPE_ID(postern, (std::vector<postern::audit_event>) )
  CAF_ADD_TYPE_ID(postern, (postern::server_settings))
  CAF_ADD_TYPE_ID(postern, (postern::account_settings))
  CAF_ADD_TYPE_ID(postern, (std::vector<postern::account_settings>) )
  CAF_ADD_TYPE_ID(postern, (postern::account_credentials))
  CAF_ADD_TYPE_ID(postern, (postern::sealed_credentials))
  CAF_ADD_TYPE_ID(postern, (postern::oauth_access))
  CAF_ADD_TYPE_ID(postern, (postern::grant_id))
  CAF_ADD_TYPE_ID(postern, (postern::grant_info))
  CAF_ADD_TYPE_ID(postern, (std::vector<postern::grant_info>) )
  CAF_ADD_TYPE_ID(postern, (postern::access_grant))
  CAF_ADD_TYPE_ID(postern, (postern::grant_request))
  CAF_ADD_TYPE_ID(postern, (postern::issued_token))
  CAF_ADD_TYPE_ID(postern, (postern::oauth_client))
  CAF_ADD_TYPE_ID(postern, (postern::code_request))
  CAF_ADD_TYPE_ID(postern, (postern::code_exchange))
  CAF_ADD_TYPE_ID(postern, (postern::refresh_request))
  CAF_ADD_TYPE_ID(postern, (postern::token_pair))
  CAF_ADD_TYPE_ID(postern, (postern::token_revocation))
  // MAIL ROUTER, ACCOUNT, IMAP CONNECTION, SMTP SENDER, CONNECTION PROBE
  CAF_ADD_TYPE_ID(postern, (postern::mailbox_ref))
  CAF_ADD_TYPE_ID(postern, (postern::sent_message))
  CAF_ADD_TYPE_ID(postern, (postern::mail_status))
  CAF_ADD_TYPE_ID(postern, (postern::probe_report))
  CAF_ADD_TYPE_ID(postern, (postern::imap::folder))
  CAF_ADD_TYPE_ID(postern, (std::vector<postern::imap::folder>) )
  CAF_ADD_TYPE_ID(postern, (postern::imap::page_request))
  CAF_ADD_TYPE_ID(postern, (postern::imap::message_page))
  CAF_ADD_TYPE_ID(postern, (postern::imap::read_options))
  CAF_ADD_TYPE_ID(postern, (postern::imap::read_outcome))
  CAF_ADD_TYPE_ID(postern, (std::vector<postern::imap::read_outcome>) )
  CAF_ADD_TYPE_ID(postern, (postern::imap::search_query))
  CAF_ADD_TYPE_ID(postern, (postern::imap::search_result))
  CAF_ADD_TYPE_ID(postern, (postern::imap::move_result))
  CAF_ADD_TYPE_ID(postern, (postern::imap::flag_change))
  CAF_ADD_TYPE_ID(postern, (postern::imap::flag_result))
  CAF_ADD_TYPE_ID(postern, (postern::imap::thread_result))
  CAF_ADD_TYPE_ID(postern, (postern::imap::bulk_request))
  CAF_ADD_TYPE_ID(postern, (postern::imap::bulk_result))
  CAF_ADD_TYPE_ID(postern, (postern::imap::folder_change))
  CAF_ADD_TYPE_ID(postern, (postern::imap::multi_search_result))
  CAF_ADD_TYPE_ID(postern, (postern::imap::append_result))
  CAF_ADD_TYPE_ID(postern, (postern::mime::outgoing_message))
  CAF_ADD_TYPE_ID(postern, (postern::mime::attachment_limits))
  CAF_ADD_TYPE_ID(postern, (postern::mime::attachment_content))
  CAF_ADD_TYPE_ID(postern, (postern::mime::original_message))
  CAF_ADD_TYPE_ID(postern, (postern::mime::compose_request))
  CAF_ADD_TYPE_ID(postern, (postern::mime::composed_message))
  CAF_ADD_TYPE_ID(postern, (postern::send_rules))
  CAF_ADD_TYPE_ID(postern, (postern::mime::built_message))
  CAF_ADD_TYPE_ID(postern, (postern::outbox_entry))
  CAF_ADD_TYPE_ID(postern, (std::vector<postern::outbox_entry>) )

CAF_END_TYPE_ID_BLOCK(postern)
