// SPDX-License-Identifier: Apache-2.0
#pragma once

// Typed stand-ins for the MAIL ROUTER and the DIRECTORY. A test derives
// from mail_fake or directory_fake and overrides the requests it expects;
// every other request fails with not_used(). Both checks are the
// compiler's: `override` refuses a member whose signature drifted from the
// fake's, and the typed behaviors below must match mail_actor and
// directory_actor exactly (an untyped fake with a typo in a handler would
// silently never match, and the test would only see a timeout).

#include "postern/actors/directory_actor.hpp"
#include "postern/actors/mail_actor.hpp"
#include "postern/error.hpp"

#include <caf/result.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace postern::test {

/// The answer to a request the test did not expect.
inline caf::error not_used() {
  return caf::make_error(ec::unspecified, "not used by this test");
}

/// The MAIL ROUTER's requests, each failing with not_used() by default.
class mail_fake {
public:
  virtual ~mail_fake() = default;

  /// The actor running this fake (set by fake_mail), for tests that answer
  /// later through a response promise.
  mail_actor::pointer self = nullptr;

  virtual caf::result<std::vector<imap::folder>> folders(const mailbox_ref&,
                                                         bool) {
    return not_used();
  }

  virtual caf::result<imap::message_page>
  messages(const mailbox_ref&, const std::string&, const imap::page_request&) {
    return not_used();
  }

  virtual caf::result<std::vector<imap::read_outcome>>
  read(const mailbox_ref&, const std::string&, const std::vector<uint32_t>&,
       const imap::read_options&) {
    return not_used();
  }

  virtual caf::result<imap::search_result>
  search(const mailbox_ref&, const std::string&, const imap::search_query&) {
    return not_used();
  }

  virtual caf::result<imap::move_result>
  move(const mailbox_ref&, const std::string&, uint32_t, const std::string&) {
    return not_used();
  }

  virtual caf::result<imap::flag_result> flag(const mailbox_ref&,
                                              const std::string&, uint32_t,
                                              const imap::flag_change&) {
    return not_used();
  }

  virtual caf::result<sent_message> send(const mailbox_ref&,
                                         const mime::outgoing_message&,
                                         const send_rules&) {
    return not_used();
  }

  virtual caf::result<sent_message> deliver(const mailbox_ref&,
                                            const mime::built_message&) {
    return not_used();
  }

  virtual caf::result<imap::thread_result>
  thread(const mailbox_ref&, const std::string&, uint32_t) {
    return not_used();
  }

  virtual caf::result<imap::bulk_result> bulk(const mailbox_ref&,
                                              const imap::bulk_request&) {
    return not_used();
  }

  virtual caf::result<imap::folder> folder_op(const mailbox_ref&,
                                              const imap::folder_change&) {
    return not_used();
  }

  virtual caf::result<imap::multi_search_result>
  search_all(const mailbox_ref&, const imap::search_query&) {
    return not_used();
  }

  virtual caf::result<mime::attachment_content>
  attachment(const mailbox_ref&, const std::string&, uint32_t,
             const std::string&) {
    return not_used();
  }

  virtual caf::result<mime::composed_message>
  compose(const mailbox_ref&, const mime::compose_request&,
          const send_rules&) {
    return not_used();
  }

  virtual caf::result<probe_report> probe(const account_settings&,
                                          const account_credentials&) {
    return not_used();
  }

  virtual caf::result<mail_status> status() {
    return not_used();
  }

  /// Fire and forget: nothing to fail; ignored unless overridden.
  virtual void forget(const mailbox_ref&) {
    // nop
  }
};

/// Runs `impl` as a MAIL ROUTER: `sys.spawn(fake_mail, impl)` is a
/// mail_actor.
inline mail_actor::behavior_type fake_mail(mail_actor::pointer self,
                                           std::shared_ptr<mail_fake> impl) {
  impl->self = self;
  using str = const std::string&;
  using ref = const mailbox_ref&;
  return {
    [=](atom::folders, ref m, bool counts) { return impl->folders(m, counts); },
    [=](atom::messages, ref m, str folder, const imap::page_request& page) {
      return impl->messages(m, folder, page);
    },
    [=](atom::read, ref m, str folder, const std::vector<uint32_t>& uids,
        const imap::read_options& window) {
      return impl->read(m, folder, uids, window);
    },
    [=](atom::search, ref m, str folder, const imap::search_query& q) {
      return impl->search(m, folder, q);
    },
    [=](atom::move, ref m, str folder, uint32_t uid, str destination) {
      return impl->move(m, folder, uid, destination);
    },
    [=](atom::flag, ref m, str folder, uint32_t uid,
        const imap::flag_change& change) {
      return impl->flag(m, folder, uid, change);
    },
    [=](atom::send, ref m, const mime::outgoing_message& msg,
        const send_rules& rules) {
      return impl->send(m, msg, rules);
    },
    [=](atom::deliver, ref m, const mime::built_message& built) {
      return impl->deliver(m, built);
    },
    [=](atom::thread, ref m, str folder, uint32_t uid) {
      return impl->thread(m, folder, uid);
    },
    [=](atom::bulk, ref m, const imap::bulk_request& req) {
      return impl->bulk(m, req);
    },
    [=](atom::folder_op, ref m, const imap::folder_change& change) {
      return impl->folder_op(m, change);
    },
    [=](atom::search_all, ref m, const imap::search_query& q) {
      return impl->search_all(m, q);
    },
    [=](atom::attachment, ref m, str folder, uint32_t uid, str part) {
      return impl->attachment(m, folder, uid, part);
    },
    [=](atom::download, ref m, str folder, uint32_t uid, str part,
        const mime::attachment_limits&) {
      return impl->attachment(m, folder, uid, part);
    },
    [=](atom::compose, ref m, const mime::compose_request& req,
        const send_rules& rules) {
      return impl->compose(m, req, rules);
    },
    [=](atom::probe, const account_settings& settings,
        const account_credentials& creds) {
      return impl->probe(settings, creds);
    },
    [=](atom::status) { return impl->status(); },
    [=](atom::forget, ref m) { impl->forget(m); },
  };
}

/// The DIRECTORY's requests, each failing with not_used() by default.
class directory_fake {
public:
  virtual ~directory_fake() = default;

  /// The actor running this fake (set by fake_directory).
  directory_actor::pointer self = nullptr;

  virtual caf::result<user_info> add_user(const std::string&, const secret&) {
    return not_used();
  }

  virtual caf::result<session_grant> signup(const std::string&, const secret&,
                                            const std::string&,
                                            const std::string&) {
    return not_used();
  }

  virtual caf::result<session_grant> login(const std::string&, const secret&,
                                           const std::string&) {
    return not_used();
  }

  virtual caf::result<user_info> session(const std::string&) {
    return not_used();
  }

  virtual caf::result<atom::ok> logout(const std::string&) {
    return not_used();
  }

  virtual caf::result<session_grant>
  change_password(const user_id&, const secret&, const secret&) {
    return not_used();
  }

  virtual caf::result<user_info> get_user(const user_id&) {
    return not_used();
  }

  virtual caf::result<user_info> find_user(const std::string&) {
    return not_used();
  }

  virtual caf::result<atom::ok> delete_user(const user_id&) {
    return not_used();
  }

  virtual caf::result<account_settings>
  add_account(const account_settings&, const account_credentials&) {
    return not_used();
  }

  virtual caf::result<account_settings>
  update_account(const account_settings&, const account_credentials&) {
    return not_used();
  }

  virtual caf::result<account_credentials>
  edit_credentials(const account_settings&, const account_credentials&) {
    return not_used();
  }

  virtual caf::result<account_settings> get_account(const user_id&,
                                                    const account_id&) {
    return not_used();
  }

  virtual caf::result<account_settings>
  signin(const user_id&, const account_id&, const account_credentials&) {
    return not_used();
  }

  virtual caf::result<account_settings> signin_needed(const user_id&,
                                                      const account_id&) {
    return not_used();
  }

  virtual caf::result<std::vector<account_settings>>
  list_accounts(const user_id&) {
    return not_used();
  }

  virtual caf::result<atom::ok> delete_account(const user_id&,
                                               const account_id&) {
    return not_used();
  }

  /// Fire and forget: ignored unless overridden.
  virtual void audit(const std::vector<audit_event>&) {
    // nop
  }

  virtual caf::result<std::vector<audit_event>> audit_log(const user_id&,
                                                          uint64_t) {
    return not_used();
  }

  virtual caf::result<std::string> invite(int64_t) {
    return not_used();
  }
};

/// Runs `impl` as a DIRECTORY: `sys.spawn(fake_directory, impl)` is a
/// directory_actor. A single audit event reaches audit() as a batch of one,
/// and the sweep timer is ignored.
inline directory_actor::behavior_type
fake_directory(directory_actor::pointer self,
               std::shared_ptr<directory_fake> impl) {
  impl->self = self;
  using str = const std::string&;
  using settings = const account_settings&;
  using creds = const account_credentials&;
  return {
    [=](atom::add_user, str name, const secret& pw) {
      return impl->add_user(name, pw);
    },
    [=](atom::signup, str name, const secret& pw, str invite, str address) {
      return impl->signup(name, pw, invite, address);
    },
    [=](atom::login, str name, const secret& pw, str address) {
      return impl->login(name, pw, address);
    },
    [=](atom::session, str cookie) { return impl->session(cookie); },
    [=](atom::logout, str cookie) { return impl->logout(cookie); },
    [=](atom::change_password, const user_id& user, const secret& old_pw,
        const secret& new_pw) {
      return impl->change_password(user, old_pw, new_pw);
    },
    [=](atom::get, const user_id& user) { return impl->get_user(user); },
    [=](atom::find_user, str name) { return impl->find_user(name); },
    [=](atom::delete_user, const user_id& u) { return impl->delete_user(u); },
    [=](atom::add_account, settings s, creds c) {
      return impl->add_account(s, c);
    },
    [=](atom::update_account, settings s, creds c) {
      return impl->update_account(s, c);
    },
    [=](atom::edit_credentials, settings s, creds c) {
      return impl->edit_credentials(s, c);
    },
    [=](atom::signin, const user_id& user, const account_id& account,
        creds c) { return impl->signin(user, account, c); },
    [=](atom::signin_needed, const user_id& user, const account_id& account) {
      return impl->signin_needed(user, account);
    },
    [=](atom::get, const user_id& user, const account_id& account) {
      return impl->get_account(user, account);
    },
    [=](atom::list, const user_id& user) { return impl->list_accounts(user); },
    [=](atom::delete_account, const user_id& user, const account_id& account) {
      return impl->delete_account(user, account);
    },
    [=](atom::audit, const audit_event& e) { impl->audit({e}); },
    [=](atom::audit, const std::vector<audit_event>& events) {
      impl->audit(events);
    },
    [=](atom::audit_log, const user_id& user, uint64_t n) {
      return impl->audit_log(user, n);
    },
    [=](atom::invite, int64_t seconds) { return impl->invite(seconds); },
    [](atom::tick) {
      // nop
    },
  };
}

} // namespace postern::test
