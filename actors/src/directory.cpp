// SPDX-License-Identifier: Apache-2.0
// The DIRECTORY's behavior: each handler checks the rules
// (account_rules.hpp), asks a HASHER or the VAULT when it must, and runs one
// state member (directory_state.cpp).
#include "postern/actors/directory.hpp"

#include "postern/actors/account_rules.hpp"
#include "postern/actors/hasher.hpp"
#include "postern/clock.hpp"
#include "postern/error.hpp"
#include "postern/log.hpp"
#include "postern/storage/crypto.hpp"

#include <caf/result.hpp>
#include <caf/typed_response_promise.hpp>

#include <algorithm>
#include <functional>
#include <thread>

namespace postern {

namespace {

using namespace std::chrono_literals;

/// How long the DIRECTORY waits for a HASHER or the VAULT.
constexpr auto helper_timeout = 30s;

/// Delivers a value or its error.
template <class T>
void deliver(caf::typed_response_promise<T>& rp, caf::expected<T> x) {
  if (x)
    rp.deliver(std::move(*x));
  else
    rp.deliver(std::move(x.error()));
}

/// Passes a failed request's error on to the promise.
template <class Promise>
auto forward_error(Promise rp) {
  return [rp](caf::error& err) mutable { rp.deliver(std::move(err)); };
}

using directory_self = directory_actor::stateful_pointer<directory_state>;

/// Has the VAULT seal `creds`, then stores them with `settings` in one
/// write transaction (`typed`: see store_account). When the key rotated in
/// between (another process ran `postern admin rotate-key`), the
/// transaction refuses the stale record and the VAULT, which then loads the
/// new key, seals once more.
void seal_and_store(directory_self self, account_settings settings,
                    account_credentials creds, bool is_new,
                    const account_credentials* typed,
                    std::function<void(caf::expected<account_settings>)> done,
                    int attempts = 2) {
  std::optional<account_credentials> typed_copy;
  if (typed)
    typed_copy = *typed;
  self
    ->request(self->state.vault, helper_timeout, atom::seal_v, settings.owner,
              settings.id, creds)
    .then(
      [=](const sealed_credentials& sealed) mutable {
        bool stale_key = false;
        auto stored = self->state.store_account(
          settings, &sealed, is_new, typed_copy ? &*typed_copy : nullptr,
          &stale_key);
        if (stale_key && attempts > 1) {
          POSTERN_INFO("directory: the encryption key changed while an "
                       "account was saved; sealing again");
          seal_and_store(self, std::move(settings), std::move(creds), is_new,
                         typed_copy ? &*typed_copy : nullptr, std::move(done),
                         attempts - 1);
          return;
        }
        done(std::move(stored));
      },
      [done](caf::error& err) { done(std::move(err)); });
}

/// Has the VAULT seal an OAuth account's new refresh token, then records
/// the sign-in (see directory_state::record_signin); seals once more when
/// the key rotated in between, as seal_and_store does.
void seal_signin(directory_self self, user_id user, account_id account,
                 account_credentials creds,
                 caf::typed_response_promise<account_settings> rp,
                 int attempts = 2) {
  if (creds.oauth_refresh_token.empty() || !creds.imap_password.empty()
      || !creds.smtp_password.empty()) {
    rp.deliver(caf::make_error(ec::invalid_argument,
                               "a sign-in stores a refresh token only"));
    return;
  }
  self
    ->request(self->state.vault, helper_timeout, atom::seal_v, user, account,
              creds)
    .then(
      [=](const sealed_credentials& sealed) mutable {
        bool stale_key = false;
        auto stored = self->state.record_signin(user, account, &sealed, false,
                                                &stale_key);
        if (stale_key && attempts > 1) {
          seal_signin(self, std::move(user), std::move(account),
                      std::move(creds), std::move(rp), attempts - 1);
          return;
        }
        deliver(rp, std::move(stored));
      },
      [rp](caf::error& err) mutable { rp.deliver(std::move(err)); });
}

/// Checks an edit of a stored account (`settings`, with the passwords
/// `typed` on the form): the rules, and that a password not typed again
/// stays with the server it was typed for. Then calls `done` with the
/// passwords the edit is to use, each typed one else the VAULT's; the VAULT
/// is asked only when a password is missing.
void with_edit_credentials(
  directory_self self, const account_settings& settings,
  const account_credentials& typed,
  std::function<void(caf::expected<account_credentials>)> done) {
  auto& st = self->state;
  if (auto err = validate_account(settings, typed, false, st.opts.hosts))
    return done(std::move(err));
  auto stored = st.lookup_account(settings.owner, settings.id);
  if (!stored)
    return done(std::move(stored.error()));
  if (auto err = check_passwords_follow_servers(*stored, settings, typed))
    return done(std::move(err));
  auto complete = !typed.imap_password.empty()
                  && (!settings.smtp_own_password
                      || !typed.smtp_password.empty());
  if (complete)
    return done(merge_credentials(settings, typed, {}));
  self
    ->request(st.vault, helper_timeout, atom::get_v, settings.owner,
              settings.id)
    .then(
      [settings, typed, done](const account_credentials& current) {
        done(merge_credentials(settings, typed, current));
      },
      [done](caf::error& err) { done(std::move(err)); });
}

/// Hashes a password on a HASHER, then stores the user (using up `invite`
/// when not empty). Shared by the operator path and sign-up.
void create_user(directory_self self, std::string username, secret password,
                 std::string invite,
                 std::function<void(caf::expected<user_info>)> done) {
  self
    ->request(self->state.pick_hasher(), helper_timeout, atom::hash_v,
              std::move(password))
    .then(
      [self, username, invite, done](const std::string& hash) {
        done(self->state.store_user(username, hash, invite));
      },
      [done](caf::error& err) { done(std::move(err)); });
}

/// The operator's `postern admin add-user`: no SIGNUP policy.
caf::result<user_info> add_user(directory_self self,
                                const std::string& username,
                                const secret& password) {
  if (auto err = validate_username(username))
    return err;
  if (auto err = validate_password(username, password))
    return err;
  auto rp = self->make_response_promise<user_info>();
  create_user(self, username, password, {},
              [self, rp](caf::expected<user_info> user) mutable {
                if (user)
                  self->state.record(audit_event{0, user->id, "admin",
                                                 "user.create", user->username,
                                                 "ok", ""});
                deliver(rp, std::move(user));
              });
  return rp;
}

/// Sign-up from the web under the SIGNUP policy; logs the new user in.
caf::result<session_grant>
sign_up(directory_self self, const std::string& username,
        const secret& password, const std::string& invite,
        const std::string& address) {
  auto policy = self->state.opts.signup;
  if (policy == signup_policy::closed)
    return caf::make_error(ec::forbidden,
                           "sign-up is closed on this server; ask its "
                           "operator for an account");
  if (policy == signup_policy::invite && invite.empty())
    return make_field_error(ec::forbidden, "invite",
                            "this server needs an invite code to sign up");
  if (auto err = validate_username(username))
    return err;
  if (auto err = validate_password(username, password))
    return err;
  auto rp = self->make_response_promise<session_grant>();
  auto code = policy == signup_policy::invite ? invite : std::string{};
  create_user(self, username, password, code,
              [self, rp, address](caf::expected<user_info> user) mutable {
                if (!user) {
                  rp.deliver(std::move(user.error()));
                  return;
                }
                self->state.record(audit_event{0, user->id, "web", "signup",
                                               user->username, "ok", address});
                deliver(rp, self->state.open_session(*user));
              });
  return rp;
}

/// Checks a username and password and opens a web session. Unknown users
/// are checked against a dummy hash: same cost, same answer, so the timing
/// does not reveal which usernames exist.
caf::result<session_grant>
log_in(directory_self self, const std::string& username, const secret& password,
       const std::string& address) {
  auto rec = username.size() <= 64 ? self->state.lookup_user(username)
                                   : caf::expected<storage::user_record>{
                                     caf::make_error(ec::no_such_user)};
  if (!rec && rec.error() != ec::no_such_user)
    return rec.error();
  auto known = static_cast<bool>(rec);
  auto hash = known ? rec->password_hash : self->state.dummy_hash;
  auto info = known ? rec->info : user_info{};
  auto rp = self->make_response_promise<session_grant>();
  self
    ->request(self->state.pick_hasher(), helper_timeout, atom::verify_v,
              password, hash)
    .then(
      [self, rp, known, info, username, address](bool ok) mutable {
        auto& st = self->state;
        if (!ok || !known) {
          st.record(audit_event{0, info.id, "web", "login",
                                username.substr(0, 64), "invalid credentials",
                                address});
          rp.deliver(caf::make_error(ec::invalid_credentials,
                                     "wrong username or password"));
          return;
        }
        st.record(audit_event{0, info.id, "web", "login", info.username, "ok",
                              address});
        deliver(rp, st.open_session(info));
      },
      forward_error(rp));
  return rp;
}

/// Replaces a password once the old one is verified; the new hash is
/// computed on the same HASHER.
caf::result<session_grant>
change_password(directory_self self, const user_id& user,
                const secret& old_password, const secret& new_password) {
  auto info = self->state.lookup_user(user);
  if (!info)
    return info.error();
  auto rec = self->state.lookup_user(info->username);
  if (!rec)
    return rec.error();
  if (auto err = validate_password(info->username, new_password))
    return err;
  auto rp = self->make_response_promise<session_grant>();
  auto hasher = self->state.pick_hasher();
  auto store = [self, rp, user](const std::string& hash) mutable {
    auto grant = self->state.replace_password(user, hash);
    if (grant)
      self->state.record(
        audit_event{0, user, "web", "password.change", "", "ok", ""});
    deliver(rp, std::move(grant));
  };
  self
    ->request(hasher, helper_timeout, atom::verify_v, old_password,
              rec->password_hash)
    .then(
      [self, rp, new_password, hasher, store](bool ok) mutable {
        if (!ok) {
          rp.deliver(caf::make_error(ec::invalid_credentials,
                                     "the current password is wrong"));
          return;
        }
        self->request(hasher, helper_timeout, atom::hash_v, new_password)
          .then(store, forward_error(rp));
      },
      forward_error(rp));
  return rp;
}

/// Adds an account (a new id) with its passwords sealed by the VAULT.
caf::result<account_settings> add_account(directory_self self,
                                          account_settings settings,
                                          const account_credentials& creds) {
  settings.id = account_id{storage::new_uuid()};
  if (auto err = validate_account(settings, creds, true,
                                  self->state.opts.hosts))
    return err;
  auto rp = self->make_response_promise<account_settings>();
  seal_and_store(
    self, settings, creds, true, nullptr,
    [self, rp, settings](caf::expected<account_settings> stored) mutable {
      if (stored)
        self->state.record(audit_event{0, settings.owner, "web", "account.add",
                                       settings.id.value, "ok", ""});
      deliver(rp, std::move(stored));
    });
  return rp;
}

/// Updates an account: the passwords typed with it are sealed again, the
/// others kept, each only for the server it was typed for.
caf::result<account_settings> update_account(directory_self self,
                                             const account_settings& settings,
                                             const account_credentials& typed) {
  auto rp = self->make_response_promise<account_settings>();
  with_edit_credentials(
    self, settings, typed,
    [self, rp, settings,
     typed](caf::expected<account_credentials> creds) mutable {
      if (!creds) {
        rp.deliver(std::move(creds.error()));
        return;
      }
      auto done = [self, rp,
                   settings](caf::expected<account_settings> stored) mutable {
        if (stored)
          self->state.record(audit_event{0, settings.owner, "web",
                                         "account.update", settings.id.value,
                                         "ok", ""});
        deliver(rp, std::move(stored));
      };
      if (typed.imap_password.empty() && typed.smtp_password.empty())
        done(self->state.store_account(settings, nullptr, false, &typed));
      else
        seal_and_store(self, settings, std::move(*creds), false, &typed,
                       std::move(done));
    });
  return rp;
}

/// The passwords to test an edit with (see with_edit_credentials).
caf::result<account_credentials>
edit_credentials(directory_self self, const account_settings& settings,
                 const account_credentials& typed) {
  auto rp = self->make_response_promise<account_credentials>();
  with_edit_credentials(self, settings, typed,
                        [rp](caf::expected<account_credentials> creds) mutable {
                          deliver(rp, std::move(creds));
                        });
  return rp;
}

/// Ends a web session; unknown tokens fail in end_session.
caf::result<atom::ok> log_out(directory_self self, const std::string& token) {
  if (auto err = self->state.end_session(token))
    return err;
  return atom::ok_v;
}

/// The user called `username`, without the password hash.
caf::result<user_info> find_user(directory_self self,
                                 const std::string& username) {
  auto rec = self->state.lookup_user(username);
  if (!rec)
    return rec.error();
  return rec->info;
}

/// Removes a user with everything they own, and audits it.
caf::result<atom::ok> delete_user(directory_self self, const user_id& user) {
  if (auto err = self->state.remove_user(user))
    return err;
  // Filed under no user (the operator's log): the user's own entries went
  // with them, and retention prunes this one like any other.
  self->state.record(
    audit_event{0, user_id{""}, "admin", "user.delete", user.value, "ok", ""});
  return atom::ok_v;
}

/// Removes an email account of a user, and audits it.
caf::result<atom::ok> delete_account(directory_self self, const user_id& user,
                                     const account_id& account) {
  if (auto err = self->state.remove_account(user, account))
    return err;
  self->state.record(
    audit_event{0, user, "web", "account.delete", account.value, "ok", ""});
  return atom::ok_v;
}

/// Sweeps expired rows, then sets the timer again (unless it is off).
void sweep_and_rearm(directory_self self) {
  self->state.sweep();
  if (self->state.opts.sweep_interval.count() > 0)
    self->delayed_send(self, self->state.opts.sweep_interval, atom::tick_v);
}

/// Takes over what the DIRECTORY owns, links its HASHERs and starts the
/// sweep timer.
void set_up(directory_self self, std::shared_ptr<storage::environment> env,
            vault_actor vault, std::vector<hasher_actor> hashers,
            directory_options opts, std::string dummy_hash) {
  auto& init = self->state;
  init.env = std::move(env);
  init.vault = std::move(vault);
  init.hashers = std::move(hashers);
  init.opts = std::move(opts);
  init.dummy_hash = std::move(dummy_hash);
  // The HASHERs are detached threads: they end when the DIRECTORY ends.
  for (auto& h : init.hashers)
    self->link_to(h);
  if (init.opts.sweep_interval.count() > 0)
    self->delayed_send(self, init.opts.sweep_interval, atom::tick_v);
}

} // namespace

directory_actor::behavior_type
directory(directory_self self, std::shared_ptr<storage::environment> env,
          vault_actor vault, std::vector<hasher_actor> hashers,
          directory_options opts, std::string dummy_hash) {
  set_up(self, std::move(env), std::move(vault), std::move(hashers),
         std::move(opts), std::move(dummy_hash));
  // One line per message: the work is in the functions above and in the
  // state (directory_state.cpp).
  return {
    [=](atom::add_user, const std::string& username, const secret& password) {
      return add_user(self, username, password);
    },
    [=](atom::signup, const std::string& username, const secret& password,
        const std::string& invite, const std::string& address) {
      return sign_up(self, username, password, invite, address);
    },
    [=](atom::login, const std::string& username, const secret& password,
        const std::string& address) {
      return log_in(self, username, password, address);
    },
    [=](atom::session, const std::string& token) -> caf::result<user_info> {
      return self->state.resolve_session(token);
    },
    [=](atom::logout, const std::string& token) {
      return log_out(self, token);
    },
    [=](atom::change_password, const user_id& user, const secret& old_password,
        const secret& new_password) {
      return change_password(self, user, old_password, new_password);
    },
    [=](atom::get, const user_id& user) -> caf::result<user_info> {
      return self->state.lookup_user(user);
    },
    [=](atom::find_user, const std::string& username) {
      return find_user(self, username);
    },
    [=](atom::delete_user, const user_id& user) {
      return delete_user(self, user);
    },
    [=](atom::add_account, const account_settings& settings,
        const account_credentials& creds) {
      return add_account(self, settings, creds);
    },
    [=](atom::update_account, const account_settings& settings,
        const account_credentials& typed) {
      return update_account(self, settings, typed);
    },
    [=](atom::edit_credentials, const account_settings& settings,
        const account_credentials& typed) {
      return edit_credentials(self, settings, typed);
    },
    [=](atom::signin, const user_id& user, const account_id& account,
        const account_credentials& creds) {
      auto rp = self->make_response_promise<account_settings>();
      seal_signin(self, user, account, creds, rp);
      return rp;
    },
    [=](atom::signin_needed, const user_id& user,
        const account_id& account) -> caf::result<account_settings> {
      auto stored = self->state.record_signin(user, account, nullptr, true);
      if (stored)
        self->state.record(audit_event{0, user, "provider",
                                       "account.signin_needed",
                                       account.value, "refused", ""});
      return stored;
    },
    [=](atom::get, const user_id& user,
        const account_id& account) -> caf::result<account_settings> {
      return self->state.lookup_account(user, account);
    },
    [=](atom::list,
        const user_id& user) -> caf::result<std::vector<account_settings>> {
      return self->state.all_accounts(user);
    },
    [=](atom::delete_account, const user_id& user, const account_id& account) {
      return delete_account(self, user, account);
    },
    [=](atom::audit, audit_event& event) {
      self->state.record(std::move(event));
    },
    [=](atom::audit, std::vector<audit_event>& events) {
      self->state.record_all(std::move(events));
    },
    [=](atom::audit_log, const user_id& user,
        uint64_t limit) -> caf::result<std::vector<audit_event>> {
      return self->state.audit_of(user, limit);
    },
    [=](atom::invite, int64_t ttl_seconds) -> caf::result<std::string> {
      return self->state.create_invite(ttl_seconds);
    },
    [=](atom::tick) { sweep_and_rearm(self); },
  };
}

caf::expected<directory_actor>
spawn_directory(caf::actor_system& sys,
                std::shared_ptr<storage::environment> env, vault_actor vault,
                directory_options opts, size_t hasher_count,
                bool background_hashing) {
  if (hasher_count == 0)
    hasher_count = std::clamp<size_t>(std::thread::hardware_concurrency(), 1,
                                      4);
  auto dummy = storage::hash_password(secret{storage::random_token(16)});
  if (!dummy)
    return dummy.error();
  auto hashers = spawn_hashers(sys, hasher_count, {}, background_hashing);
  return sys.spawn(directory, std::move(env), std::move(vault),
                   std::move(hashers), std::move(opts), std::move(*dummy));
}

} // namespace postern
