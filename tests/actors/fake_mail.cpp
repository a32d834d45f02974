// SPDX-License-Identifier: Apache-2.0
#include "actors/fake_mail.hpp"

#include "postern/error.hpp"

#include <caf/result.hpp>

#include <string>

namespace postern::test {

account_settings fake_settings(const user_id& user, const account_id& account) {
  account_settings s;
  s.id = account;
  s.owner = user;
  s.label = "Work";
  s.imap = server_settings{"imap.example.com", 993, transport_security::tls,
                           "alice@example.com"};
  return s;
}

caf::result<account_settings>
settings_directory::get_account(const user_id& user,
                                const account_id& account) {
  return fake_settings(user, account);
}

vault_actor::behavior_type fake_vault() {
  return {
    [](atom::seal, const user_id&, const account_id&,
       const account_credentials&) -> caf::result<sealed_credentials> {
      return not_used();
    },
    [](atom::get, const user_id&,
       const account_id&) -> caf::result<account_credentials> {
      account_credentials creds;
      creds.imap_password = secret{fake_password};
      return creds;
    },
    [](atom::rotate, const secret&) -> caf::result<uint64_t> {
      return not_used();
    },
  };
}

std::vector<imap::folder> fake_folders() {
  imap::folder inbox;
  inbox.name = "INBOX";
  inbox.special_use = "\\Inbox";
  return {inbox};
}

imap_connection_actor::behavior_type fake_connection(
  imap_connection_actor::stateful_pointer<fake_connection_state> self,
  server_settings server, secret password, caf::error failure) {
  using namespace imap;
  using std::string;
  self->state.server = std::move(server);
  self->state.password = std::move(password);
  self->state.failure = std::move(failure);
  return {
    [self](atom::folders, bool) -> caf::result<std::vector<folder>> {
      if (self->state.failure)
        return self->state.failure;
      return fake_folders();
    },
    [](atom::messages, const string&,
       const page_request&) -> caf::result<message_page> { return not_used(); },
    [](atom::read, const string&, const std::vector<uint32_t>&,
       const read_options&) -> caf::result<std::vector<read_outcome>> {
      return not_used();
    },
    [](atom::search, const string&, const search_query&)
      -> caf::result<search_result> { return not_used(); },
    [](atom::move, const string&, uint32_t,
       const string&) -> caf::result<move_result> { return not_used(); },
    [](atom::flag, const string&, uint32_t,
       const flag_change&) -> caf::result<flag_result> { return not_used(); },
    [](atom::thread, const string&, uint32_t) -> caf::result<thread_result> {
      return not_used();
    },
    [](atom::bulk, const bulk_request&) -> caf::result<bulk_result> {
      return not_used();
    },
    [](atom::folder_op, const folder_change&) -> caf::result<folder> {
      return not_used();
    },
    [](atom::search_all, const search_query&)
      -> caf::result<multi_search_result> { return not_used(); },
    [](atom::save_sent, const string&) -> caf::result<append_result> {
      return not_used();
    },
    [](atom::attachment, const string&, uint32_t, const string&,
       const mime::attachment_limits&)
      -> caf::result<mime::attachment_content> { return not_used(); },
    [](atom::original, const string&, uint32_t, bool,
       uint64_t) -> caf::result<mime::original_message> { return not_used(); },
    [](atom::save_draft, const string&) -> caf::result<append_result> {
      return not_used();
    },
    [](atom::ping) -> caf::result<atom::ok> { return not_used(); },
  };
}

mail_router_actor::behavior_type
fake_router(mail_router_actor::stateful_pointer<fake_router_state> self) {
  using namespace imap;
  using std::string;
  using ref = const mailbox_ref&;
  return {
    [](atom::folders, ref, bool) -> caf::result<std::vector<folder>> {
      return not_used();
    },
    [](atom::messages, ref, const string&,
       const page_request&) -> caf::result<message_page> { return not_used(); },
    [](atom::read, ref, const string&, const std::vector<uint32_t>&,
       const read_options&) -> caf::result<std::vector<read_outcome>> {
      return not_used();
    },
    [](atom::search, ref, const string&, const search_query&)
      -> caf::result<search_result> { return not_used(); },
    [](atom::move, ref, const string&, uint32_t,
       const string&) -> caf::result<move_result> { return not_used(); },
    [](atom::flag, ref, const string&, uint32_t,
       const flag_change&) -> caf::result<flag_result> { return not_used(); },
    [](atom::send, ref, const mime::outgoing_message&, const send_rules&)
      -> caf::result<sent_message> { return not_used(); },
    [](atom::deliver, ref, const mime::built_message&)
      -> caf::result<sent_message> { return not_used(); },
    [](atom::thread, ref, const string&,
       uint32_t) -> caf::result<thread_result> { return not_used(); },
    [](atom::bulk, ref, const bulk_request&) -> caf::result<bulk_result> {
      return not_used();
    },
    [](atom::folder_op, ref, const folder_change&) -> caf::result<folder> {
      return not_used();
    },
    [](atom::search_all, ref, const search_query&)
      -> caf::result<multi_search_result> { return not_used(); },
    [](atom::attachment, ref, const string&, uint32_t, const string&)
      -> caf::result<mime::attachment_content> { return not_used(); },
    [](atom::download, ref, const string&, uint32_t, const string&,
       const mime::attachment_limits&)
      -> caf::result<mime::attachment_content> { return not_used(); },
    [](atom::compose, ref, const mime::compose_request&, const send_rules&)
      -> caf::result<mime::composed_message> { return not_used(); },
    [](atom::probe, const account_settings&, const account_credentials&)
      -> caf::result<probe_report> { return not_used(); },
    [](atom::status) -> caf::result<mail_status> { return not_used(); },
    [](atom::forget, ref) {
      // nop
    },
    [self](atom::acquire, const user_id&) -> caf::result<atom::ok> {
      if (self->state.refuse)
        return self->state.refuse;
      ++self->state.granted;
      return atom::ok_v;
    },
    [self](atom::release, const user_id&) { ++self->state.released; },
  };
}

} // namespace postern::test
