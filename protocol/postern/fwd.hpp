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
struct server_settings;
struct session_grant;
struct user_id;
struct user_info;

} // namespace postern

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
  CAF_ADD_ATOM(postern, postern::atom, passwd, "passwd")
  CAF_ADD_ATOM(postern, postern::atom, find_user, "find_user")
  CAF_ADD_ATOM(postern, postern::atom, del_user, "del_user")
  CAF_ADD_ATOM(postern, postern::atom, add_acct, "add_acct")
  CAF_ADD_ATOM(postern, postern::atom, upd_acct, "upd_acct")
  CAF_ADD_ATOM(postern, postern::atom, del_acct, "del_acct")
  CAF_ADD_ATOM(postern, postern::atom, list, "list")
  CAF_ADD_ATOM(postern, postern::atom, audit, "audit")
  CAF_ADD_ATOM(postern, postern::atom, audit_log, "audit_log")
  CAF_ADD_ATOM(postern, postern::atom, invite, "invite")
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
  CAF_ADD_ATOM(postern, postern::atom, original, "original")
  CAF_ADD_ATOM(postern, postern::atom, compose, "compose")
  CAF_ADD_ATOM(postern, postern::atom, save_draft, "save_draft")
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
  CAF_ADD_TYPE_ID(postern, (std::vector<postern::audit_event>))
  CAF_ADD_TYPE_ID(postern, (postern::server_settings))
  CAF_ADD_TYPE_ID(postern, (postern::account_settings))
  CAF_ADD_TYPE_ID(postern, (std::vector<postern::account_settings>))
  CAF_ADD_TYPE_ID(postern, (postern::account_credentials))
  CAF_ADD_TYPE_ID(postern, (postern::sealed_credentials))
  CAF_ADD_TYPE_ID(postern, (postern::grant_id))
  CAF_ADD_TYPE_ID(postern, (postern::grant_info))
  CAF_ADD_TYPE_ID(postern, (std::vector<postern::grant_info>))
  CAF_ADD_TYPE_ID(postern, (postern::access_grant))
  CAF_ADD_TYPE_ID(postern, (postern::grant_request))
  CAF_ADD_TYPE_ID(postern, (postern::issued_token))
  CAF_ADD_TYPE_ID(postern, (postern::oauth_client))
  CAF_ADD_TYPE_ID(postern, (postern::code_request))
  CAF_ADD_TYPE_ID(postern, (postern::code_exchange))
  CAF_ADD_TYPE_ID(postern, (postern::refresh_request))
  CAF_ADD_TYPE_ID(postern, (postern::token_pair))
  CAF_ADD_TYPE_ID(postern, (postern::token_revocation))

CAF_END_TYPE_ID_BLOCK(postern)
