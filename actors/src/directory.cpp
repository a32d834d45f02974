// SPDX-License-Identifier: Apache-2.0
#include "postern/actors/directory.hpp"

#include "postern/actors/hasher.hpp"
#include "postern/clock.hpp"
#include "postern/error.hpp"
#include "postern/log.hpp"
#include "postern/storage/credential_store.hpp"
#include "postern/storage/crypto.hpp"
#include "postern/storage/grant_store.hpp"
#include "postern/storage/record.hpp"

#include <caf/result.hpp>
#include <caf/typed_response_promise.hpp>

#include <algorithm>
#include <cctype>
#include <functional>
#include <thread>

namespace postern {

namespace {

/// Web sessions (logged-in browsers) one user keeps at most.
constexpr size_t max_sessions_per_user = 20;

using namespace std::chrono_literals;

/// How long the DIRECTORY waits for a HASHER or the VAULT.
constexpr auto helper_timeout = 30s;

caf::error invalid(const std::string& sentence) {
  return caf::make_error(ec::invalid_argument, sentence);
}

bool valid_utf8_text(std::string_view s) {
  // Printable UTF-8 without control characters.
  for (size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == 0x7F)
      return false;
    size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3
                              : (c >> 3) == 0x1E ? 4 : 0;
    if (len == 0 || i + len > s.size())
      return false;
    for (size_t k = 1; k < len; ++k)
      if ((static_cast<unsigned char>(s[i + k]) >> 6) != 0x2)
        return false;
    i += len;
  }
  return true;
}

caf::error validate_server(const server_settings& s, const char* which,
                           const host_policy& hosts) {
  std::string what = which;
  if (s.host.empty())
    return invalid(what + " server: enter a host name");
  if (auto err = hosts.check_host(s.host))
    return caf::make_error(err.code() == static_cast<uint8_t>(ec::forbidden)
                             ? ec::forbidden
                             : ec::invalid_argument,
                           what + " server: " + describe(err));
  if (s.port == 0)
    return invalid(what + " server: the port must be between 1 and 65535");
  if (s.security != transport_security::tls
      && s.security != transport_security::starttls
      && s.security != transport_security::plain)
    return invalid(what + " server: security must be tls, starttls or plain");
  if (s.security == transport_security::plain && !is_loopback_host(s.host))
    return invalid(what + " server: unencrypted connections are only allowed "
                          "to this machine (localhost); use tls or starttls");
  if (s.username.empty() || s.username.size() > 320
      || !valid_utf8_text(s.username))
    return invalid(what + " server: enter the login name (at most 320 "
                          "characters)");
  return caf::none;
}

/// Delivers a value or its error.
template <class T>
void deliver(caf::typed_response_promise<T>& rp, caf::expected<T> x) {
  if (x)
    rp.deliver(std::move(*x));
  else
    rp.deliver(std::move(x.error()));
}

std::string session_key(const std::string& token) {
  return storage::sha256(token);
}

} // namespace

// -- rules --------------------------------------------------------------------

caf::error validate_username(const std::string& username) {
  if (username.size() < 3 || username.size() > 64)
    return invalid("the username must be 3 to 64 characters long");
  if (!std::isalnum(static_cast<unsigned char>(username.front())))
    return invalid("the username must start with a letter or digit");
  for (auto c : username)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_'
        && c != '-' && c != '@' && c != '+')
      return invalid("the username may contain letters, digits and . _ - @ + "
                     "only");
  return caf::none;
}

caf::error validate_password(const std::string& username,
                             const secret& password) {
  const auto& p = password.reveal();
  if (p.size() < 10)
    return invalid("the password must be at least 10 characters long");
  if (p.size() > 1024)
    return invalid("the password must be at most 1024 characters long");
  if (p.find('\0') != std::string::npos)
    return invalid("the password must not contain NUL characters");
  if (storage::username_key(p) == storage::username_key(username))
    return invalid("the password must differ from the username");
  return caf::none;
}

caf::error validate_account(const account_settings& settings,
                            const account_credentials& creds, bool is_new,
                            const host_policy& hosts) {
  if (settings.owner.empty())
    return invalid("the account has no owner");
  if (settings.label.empty() || settings.label.size() > 100
      || !valid_utf8_text(settings.label))
    return invalid("the label must be 1 to 100 printable characters");
  if (auto err = validate_server(settings.imap, "IMAP", hosts))
    return err;
  if (settings.has_smtp)
    if (auto err = validate_server(settings.smtp, "SMTP", hosts))
      return err;
  if (is_new && creds.imap_password.empty())
    return invalid("enter the IMAP password");
  if (creds.imap_password.size() > 1024 || creds.smtp_password.size() > 1024)
    return invalid("passwords must be at most 1024 characters long");
  if (is_new && settings.smtp_own_password && creds.smtp_password.empty())
    return invalid("enter the SMTP password, or use the IMAP password for SMTP");
  return caf::none;
}

// -- state --------------------------------------------------------------------

hasher_actor directory_state::pick_hasher() {
  auto& h = hashers[next_hasher];
  next_hasher = (next_hasher + 1) % hashers.size();
  return h;
}

caf::expected<user_info>
directory_state::store_user(const std::string& username,
                            const std::string& password_hash,
                            const std::string& invite_code) {
  storage::user_record rec;
  rec.info.id = user_id{storage::new_uuid()};
  rec.info.username = username;
  rec.info.created_at = unix_seconds();
  rec.password_hash = password_hash;
  auto err = env->write([&](storage::txn& t) -> caf::error {
    if (!invite_code.empty()) {
      // Checked again here: the invite is used up in the same transaction.
      auto key = storage::sha256(invite_code);
      auto invite = t.get(storage::table::invites, key);
      if (!invite)
        return caf::make_error(ec::forbidden,
                               "this invite code is not valid (or was used)");
      storage::record_reader in{*invite};
      if (in.i64() < unix_seconds())
        return caf::make_error(ec::forbidden, "this invite code has expired");
      t.erase(storage::table::invites, key);
    }
    if (!t.insert(storage::table::users_by_name,
                  storage::username_key(username), rec.info.id.value))
      return caf::make_error(ec::already_exists,
                             "this username is taken; choose another");
    t.put(storage::table::users, rec.info.id.value, storage::encode(rec));
    return caf::none;
  });
  if (err)
    return err;
  return rec.info;
}

caf::expected<session_grant>
directory_state::open_session(const user_info& user) {
  session_grant grant;
  grant.user = user;
  grant.token = storage::random_token(32);
  storage::session_record rec;
  rec.user = user.id;
  rec.created_at = unix_seconds();
  rec.expires_at = rec.created_at + opts.session_ttl.count();
  grant.expires_at = rec.expires_at;
  auto err = env->write([&](storage::txn& t) -> caf::error {
    // One user's logins are bounded: their own oldest session makes room
    // (nobody else's ever does).
    std::vector<std::pair<int64_t, std::string>> mine;
    t.scan(storage::table::web_sessions, "",
           [&](std::string_view k, std::string_view v) {
             auto s = storage::decode_session(v);
             if (s.user == user.id)
               mine.emplace_back(s.created_at, std::string{k});
             return true;
           });
    if (mine.size() >= max_sessions_per_user) {
      std::sort(mine.begin(), mine.end());
      for (size_t i = 0; i + max_sessions_per_user <= mine.size(); ++i)
        t.erase(storage::table::web_sessions, mine[i].second);
    }
    t.put(storage::table::web_sessions, session_key(grant.token),
          storage::encode(rec));
    return caf::none;
  });
  if (err)
    return err;
  return grant;
}

caf::expected<user_info>
directory_state::resolve_session(const std::string& token) {
  if (token.empty() || token.size() > 128)
    return caf::make_error(ec::no_such_session, "not logged in");
  caf::expected<user_info> result{
    caf::make_error(ec::no_such_session, "not logged in")};
  auto err = env->read([&](const storage::txn& t) -> caf::error {
    auto value = t.get(storage::table::web_sessions, session_key(token));
    if (!value)
      return caf::none;
    auto rec = storage::decode_session(*value);
    if (rec.expires_at <= unix_seconds()) {
      result = caf::make_error(ec::no_such_session,
                               "your session expired; log in again");
      return caf::none;
    }
    if (auto user = storage::find_user(t, rec.user))
      result = user->info;
    return caf::none;
  });
  if (err)
    return err;
  return result;
}

caf::error directory_state::end_session(const std::string& token) {
  if (token.empty() || token.size() > 128)
    return caf::none;
  return env->write([&](storage::txn& t) -> caf::error {
    t.erase(storage::table::web_sessions, session_key(token));
    return caf::none;
  });
}

caf::expected<storage::user_record>
directory_state::lookup_user(const std::string& username) {
  caf::expected<storage::user_record> result{
    caf::make_error(ec::no_such_user, "no such user: " + username)};
  auto err = env->read([&](const storage::txn& t) -> caf::error {
    if (auto rec = storage::find_user_by_name(t, username))
      result = std::move(*rec);
    return caf::none;
  });
  if (err)
    return err;
  return result;
}

caf::expected<user_info> directory_state::lookup_user(const user_id& id) {
  caf::expected<user_info> result{
    caf::make_error(ec::no_such_user, "no such user")};
  auto err = env->read([&](const storage::txn& t) -> caf::error {
    if (auto rec = storage::find_user(t, id))
      result = rec->info;
    return caf::none;
  });
  if (err)
    return err;
  return result;
}

caf::expected<session_grant>
directory_state::replace_password(const user_id& user,
                                  const std::string& new_hash) {
  user_info info;
  auto err = env->write([&](storage::txn& t) -> caf::error {
    auto rec = storage::find_user(t, user);
    if (!rec)
      return caf::make_error(ec::no_such_user, "no such user");
    rec->password_hash = new_hash;
    t.put(storage::table::users, user.value, storage::encode(*rec));
    // Everyone logged in with the old password is logged out.
    storage::erase_sessions_of(t, user);
    info = rec->info;
    return caf::none;
  });
  if (err)
    return err;
  return open_session(info);
}

caf::error directory_state::remove_user(const user_id& user) {
  auto err = env->write([&](storage::txn& t) -> caf::error {
    if (!storage::erase_user(t, user))
      return caf::make_error(ec::no_such_user, "no such user");
    return caf::none;
  });
  // After the commit: the TOKEN AUTHORITY re-checks its cached tokens.
  if (!err)
    storage::note_grants_changed();
  return err;
}

caf::expected<account_settings>
directory_state::store_account(account_settings settings,
                               const sealed_credentials* creds, bool is_new,
                               bool* stale_key) {
  auto now = unix_seconds();
  auto err = env->write([&](storage::txn& t) -> caf::error {
    if (!storage::find_user(t, settings.owner))
      return caf::make_error(ec::no_such_user, "no such user");
    if (is_new) {
      if (storage::list_accounts(t, settings.owner).size()
          >= opts.max_accounts_per_user)
        return caf::make_error(ec::forbidden,
                               "you already have the maximum of "
                                 + std::to_string(opts.max_accounts_per_user)
                                 + " email accounts");
      settings.created_at = now;
    } else {
      auto old = storage::find_account(t, settings.owner, settings.id);
      if (!old)
        return caf::make_error(ec::no_such_account, "no such email account");
      settings.created_at = old->created_at;
      if (!creds && settings.smtp_own_password && !old->smtp_own_password)
        return invalid("enter the SMTP password");
    }
    settings.updated_at = now;
    t.put(storage::table::accounts,
          storage::account_key(settings.owner, settings.id),
          storage::encode(settings));
    // Settings and secrets change together or not at all, and the secrets
    // only under the key the check record names now.
    if (creds) {
      if (!storage::sealed_with_current_key(t, creds->record)) {
        if (stale_key != nullptr)
          *stale_key = true;
        return caf::make_error(ec::storage_failure,
                               "the encryption key changed while this "
                               "account was being saved; save it again");
      }
      t.put(storage::table::credentials, settings.id.value, creds->record);
    }
    return caf::none;
  });
  if (err)
    return err;
  return settings;
}

caf::expected<account_settings>
directory_state::lookup_account(const user_id& user, const account_id& account) {
  caf::expected<account_settings> result{
    caf::make_error(ec::no_such_account, "no such email account")};
  auto err = env->read([&](const storage::txn& t) -> caf::error {
    if (auto rec = storage::find_account(t, user, account))
      result = std::move(*rec);
    return caf::none;
  });
  if (err)
    return err;
  return result;
}

caf::expected<std::vector<account_settings>>
directory_state::all_accounts(const user_id& user) {
  std::vector<account_settings> result;
  auto err = env->read([&](const storage::txn& t) -> caf::error {
    result = storage::list_accounts(t, user);
    return caf::none;
  });
  if (err)
    return err;
  return result;
}

caf::error directory_state::remove_account(const user_id& user,
                                           const account_id& account) {
  auto err = env->write([&](storage::txn& t) -> caf::error {
    if (!storage::erase_account(t, user, account))
      return caf::make_error(ec::no_such_account, "no such email account");
    return caf::none;
  });
  if (!err)
    storage::note_grants_changed();
  return err;
}

void directory_state::record(audit_event event) {
  if (event.time_ms == 0)
    event.time_ms = unix_millis();
  auto err = env->write([&](storage::txn& t) -> caf::error {
    storage::append_audit(t, event);
    return caf::none;
  });
  if (err)
    POSTERN_ERROR("directory: cannot write the audit log: {}", render(err));
}

void directory_state::record_all(std::vector<audit_event> events) {
  auto now = unix_millis();
  for (auto& event : events)
    if (event.time_ms == 0)
      event.time_ms = now;
  auto err = env->write([&](storage::txn& t) -> caf::error {
    for (auto& event : events)
      storage::append_audit(t, event);
    return caf::none;
  });
  if (err)
    POSTERN_ERROR("directory: cannot write {} audit event(s): {}",
                  events.size(), render(err));
}

caf::expected<std::vector<audit_event>>
directory_state::audit_of(const user_id& user, uint64_t limit) {
  std::vector<audit_event> result;
  auto err = env->read([&](const storage::txn& t) -> caf::error {
    result = storage::recent_audit(t, user,
                                   static_cast<size_t>(std::min<uint64_t>(limit, 1000)));
    return caf::none;
  });
  if (err)
    return err;
  return result;
}

caf::expected<std::string> directory_state::create_invite(int64_t ttl_seconds) {
  if (ttl_seconds <= 0)
    return invalid("an invite must be valid for at least one second");
  auto code = storage::random_token(18);
  auto err = env->write([&](storage::txn& t) -> caf::error {
    storage::record_writer out{1};
    out.i64(unix_seconds() + ttl_seconds);
    t.put(storage::table::invites, storage::sha256(code), out.str());
    return caf::none;
  });
  if (err)
    return err;
  return code;
}

void directory_state::sweep() {
  auto now = unix_seconds();
  size_t sessions = 0;
  size_t invites = 0;
  auto err = env->write([&](storage::txn& t) -> caf::error {
    sessions = invites = 0;
    std::vector<std::string> expired;
    t.scan(storage::table::web_sessions, "",
           [&](std::string_view k, std::string_view v) {
             if (storage::decode_session(v).expires_at <= now)
               expired.emplace_back(k);
             return true;
           });
    for (auto& k : expired)
      t.erase(storage::table::web_sessions, k);
    sessions = expired.size();
    expired.clear();
    t.scan(storage::table::invites, "",
           [&](std::string_view k, std::string_view v) {
             storage::record_reader in{v};
             if (in.i64() <= now)
               expired.emplace_back(k);
             return true;
           });
    for (auto& k : expired)
      t.erase(storage::table::invites, k);
    invites = expired.size();
    return caf::none;
  });
  if (err)
    POSTERN_WARN("directory: sweep failed: {}", render(err));
  else if (sessions + invites > 0)
    POSTERN_DEBUG("directory: swept {} session(s), {} invite(s)", sessions,
                  invites);
  prune_audit();
}

void directory_state::prune_audit() {
  if (opts.audit_retention.count() <= 0)
    return;
  auto before = unix_millis()
                - std::chrono::duration_cast<std::chrono::milliseconds>(
                    opts.audit_retention)
                    .count();
  // Every user, and the empty one (failed logins for unknown names).
  std::vector<user_id> users{user_id{""}};
  auto err = env->read([&](const storage::txn& t) -> caf::error {
    t.scan(storage::table::users, "", [&](std::string_view k, std::string_view) {
      users.push_back(user_id{std::string{k}});
      return true;
    });
    return caf::none;
  });
  if (err) {
    POSTERN_WARN("directory: audit pruning failed: {}", render(err));
    return;
  }
  size_t pruned = 0;
  auto batch = std::max<size_t>(opts.audit_batch, 1);
  for (auto& user : users) {
    // One bounded write transaction per batch: other writers get their
    // turn in between.
    for (size_t n = batch; n == batch;) {
      n = 0;
      err = env->write([&](storage::txn& t) -> caf::error {
        n = storage::prune_audit(t, user, before, batch);
        return caf::none;
      });
      if (err) {
        POSTERN_WARN("directory: audit pruning failed: {}", render(err));
        return;
      }
      pruned += n;
    }
  }
  if (pruned > 0)
    POSTERN_DEBUG("directory: pruned {} audit event(s)", pruned);
}

// -- behavior -----------------------------------------------------------------

namespace {

/// Has the VAULT seal `creds`, then stores them with `settings` in one
/// write transaction. When the key rotated in between (another process ran
/// `postern admin rotate-key`), the transaction refuses the stale record and
/// the VAULT, which then loads the new key, seals once more.
void seal_and_store(directory_actor::stateful_pointer<directory_state> self,
                    account_settings settings, account_credentials creds,
                    bool is_new,
                    std::function<void(caf::expected<account_settings>)> done,
                    int attempts = 2) {
  self->request(self->state.vault, helper_timeout, atom::seal_v,
                settings.owner, settings.id, creds)
    .then(
      [=](const sealed_credentials& sealed) mutable {
        bool stale_key = false;
        auto stored = self->state.store_account(settings, &sealed, is_new,
                                                &stale_key);
        if (stale_key && attempts > 1) {
          POSTERN_INFO("directory: the encryption key changed while an "
                       "account was saved; sealing again");
          seal_and_store(self, std::move(settings), std::move(creds), is_new,
                         std::move(done), attempts - 1);
          return;
        }
        done(std::move(stored));
      },
      [done](caf::error& err) { done(std::move(err)); });
}

} // namespace

directory_actor::behavior_type
directory(directory_actor::stateful_pointer<directory_state> self,
          std::shared_ptr<storage::environment> env, vault_actor vault,
          std::vector<hasher_actor> hashers, directory_options opts,
          std::string dummy_hash) {
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
  // Hashes a password on a HASHER, then stores the user. Shared by the
  // operator path and sign-up.
  auto create = [self](std::string username, secret password,
                       std::string invite, auto rp, auto on_created) {
    self->request(self->state.pick_hasher(), helper_timeout, atom::hash_v,
                  std::move(password))
      .then(
        [self, rp, username, invite,
         on_created](const std::string& hash) mutable {
          auto user = self->state.store_user(username, hash, invite);
          if (!user)
            rp.deliver(user.error());
          else
            on_created(rp, *user);
        },
        [rp](caf::error& err) mutable { rp.deliver(std::move(err)); });
  };
  return {
    [=](atom::add_user, const std::string& username,
        const secret& password) -> caf::result<user_info> {
      if (auto err = validate_username(username))
        return err;
      if (auto err = validate_password(username, password))
        return err;
      auto rp = self->make_response_promise<user_info>();
      create(username, password, std::string{}, rp,
             [self](auto& promise, const user_info& user) {
               self->state.record(audit_event{0, user.id, "admin",
                                              "user.create", user.username,
                                              "ok", ""});
               promise.deliver(user);
             });
      return rp;
    },
    [=](atom::signup, const std::string& username, const secret& password,
        const std::string& invite,
        const std::string& address) -> caf::result<session_grant> {
      auto policy = self->state.opts.signup;
      if (policy == signup_policy::closed)
        return caf::make_error(ec::forbidden,
                               "sign-up is closed on this server; ask its "
                               "operator for an account");
      if (policy == signup_policy::invite && invite.empty())
        return caf::make_error(ec::forbidden,
                               "this server needs an invite code to sign up");
      if (auto err = validate_username(username))
        return err;
      if (auto err = validate_password(username, password))
        return err;
      auto rp = self->make_response_promise<session_grant>();
      auto code = policy == signup_policy::invite ? invite : std::string{};
      create(username, password, code, rp,
             [self, address](auto& promise, const user_info& user) {
               self->state.record(audit_event{0, user.id, "web", "signup",
                                              user.username, "ok", address});
               deliver(promise, self->state.open_session(user));
             });
      return rp;
    },
    [=](atom::login, const std::string& username, const secret& password,
        const std::string& address) -> caf::result<session_grant> {
      auto rp = self->make_response_promise<session_grant>();
      auto rec = username.size() <= 64 ? self->state.lookup_user(username)
                                       : caf::expected<storage::user_record>{
                                         caf::make_error(ec::no_such_user)};
      if (!rec && rec.error() != ec::no_such_user)
        return rec.error();
      // Unknown users are checked against a dummy hash: same cost, same
      // answer, so the timing does not reveal which usernames exist.
      auto known = static_cast<bool>(rec);
      auto hash = known ? rec->password_hash : self->state.dummy_hash;
      auto info = known ? rec->info : user_info{};
      self->request(self->state.pick_hasher(), helper_timeout, atom::verify_v,
                    password, hash)
        .then(
          [self, rp, known, info, username, address](bool ok) mutable {
            auto& st = self->state;
            if (!ok || !known) {
              st.record(audit_event{0, info.id, "web", "login",
                                    username.substr(0, 64),
                                    "invalid credentials", address});
              rp.deliver(caf::make_error(ec::invalid_credentials,
                                         "wrong username or password"));
              return;
            }
            st.record(audit_event{0, info.id, "web", "login", info.username,
                                  "ok", address});
            deliver(rp, st.open_session(info));
          },
          [rp](caf::error& err) mutable { rp.deliver(std::move(err)); });
      return rp;
    },
    [=](atom::session, const std::string& token) -> caf::result<user_info> {
      return self->state.resolve_session(token);
    },
    [=](atom::logout, const std::string& token) -> caf::result<atom::ok> {
      if (auto err = self->state.end_session(token))
        return err;
      return atom::ok_v;
    },
    [=](atom::passwd, const user_id& user, const secret& old_password,
        const secret& new_password) -> caf::result<session_grant> {
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
      self->request(hasher, helper_timeout, atom::verify_v, old_password,
                    rec->password_hash)
        .then(
          [self, rp, user, new_password, hasher](bool ok) mutable {
            if (!ok) {
              rp.deliver(caf::make_error(ec::invalid_credentials,
                                         "the current password is wrong"));
              return;
            }
            self->request(hasher, helper_timeout, atom::hash_v, new_password)
              .then(
                [self, rp, user](const std::string& hash) mutable {
                  auto grant = self->state.replace_password(user, hash);
                  if (grant)
                    self->state.record(audit_event{0, user, "web", "password.change",
                                                   "", "ok", ""});
                  deliver(rp, std::move(grant));
                },
                [rp](caf::error& err) mutable { rp.deliver(std::move(err)); });
          },
          [rp](caf::error& err) mutable { rp.deliver(std::move(err)); });
      return rp;
    },
    [=](atom::get, const user_id& user) -> caf::result<user_info> {
      return self->state.lookup_user(user);
    },
    [=](atom::find_user, const std::string& username) -> caf::result<user_info> {
      auto rec = self->state.lookup_user(username);
      if (!rec)
        return rec.error();
      return rec->info;
    },
    [=](atom::del_user, const user_id& user) -> caf::result<atom::ok> {
      if (auto err = self->state.remove_user(user))
        return err;
      // Filed under no user (the operator's log): the user's own entries
      // went with them, and retention prunes this one like any other.
      self->state.record(audit_event{0, user_id{""}, "admin", "user.delete",
                                     user.value, "ok", ""});
      return atom::ok_v;
    },
    [=](atom::add_acct, account_settings settings,
        const account_credentials& creds) -> caf::result<account_settings> {
      settings.id = account_id{storage::new_uuid()};
      if (auto err = validate_account(settings, creds, true,
                                      self->state.opts.hosts))
        return err;
      auto rp = self->make_response_promise<account_settings>();
      seal_and_store(self, settings, creds, true,
                     [self, rp, settings](
                       caf::expected<account_settings> stored) mutable {
                       if (stored)
                         self->state.record(audit_event{
                           0, settings.owner, "web", "account.add",
                           settings.id.value, "ok", ""});
                       deliver(rp, std::move(stored));
                     });
      return rp;
    },
    [=](atom::upd_acct, const account_settings& settings,
        const account_credentials& creds) -> caf::result<account_settings> {
      if (auto err = validate_account(settings, creds, false,
                                      self->state.opts.hosts))
        return err;
      auto old = self->state.lookup_account(settings.owner, settings.id);
      if (!old)
        return old.error();
      auto audit_done = [self, settings](const caf::expected<account_settings>& r) {
        if (r)
          self->state.record(audit_event{0, settings.owner, "web",
                                         "account.update", settings.id.value,
                                         "ok", ""});
      };
      if (creds.imap_password.empty() && creds.smtp_password.empty()) {
        auto stored = self->state.store_account(settings, nullptr, false);
        audit_done(stored);
        return stored;
      }
      // Passwords changed: fetch the stored ones to keep whichever was not
      // re-entered, then seal both again.
      auto rp = self->make_response_promise<account_settings>();
      self->request(self->state.vault, helper_timeout, atom::get_v,
                    settings.owner, settings.id)
        .then(
          [self, rp, settings, creds,
           audit_done](account_credentials& current) mutable {
            account_credentials merged;
            merged.imap_password = creds.imap_password.empty()
                                     ? current.imap_password
                                     : creds.imap_password;
            merged.smtp_password = !settings.smtp_own_password
                                     ? secret{}
                                     : (creds.smtp_password.empty()
                                          ? current.smtp_password
                                          : creds.smtp_password);
            if (settings.smtp_own_password && merged.smtp_password.empty()) {
              rp.deliver(invalid("enter the SMTP password"));
              return;
            }
            seal_and_store(self, settings, merged, false,
                           [rp, audit_done](
                             caf::expected<account_settings> stored) mutable {
                             audit_done(stored);
                             deliver(rp, std::move(stored));
                           });
          },
          [rp](caf::error& err) mutable { rp.deliver(std::move(err)); });
      return rp;
    },
    [=](atom::get, const user_id& user,
        const account_id& account) -> caf::result<account_settings> {
      return self->state.lookup_account(user, account);
    },
    [=](atom::list,
        const user_id& user) -> caf::result<std::vector<account_settings>> {
      return self->state.all_accounts(user);
    },
    [=](atom::del_acct, const user_id& user,
        const account_id& account) -> caf::result<atom::ok> {
      if (auto err = self->state.remove_account(user, account))
        return err;
      self->state.record(audit_event{0, user, "web", "account.delete",
                                     account.value, "ok", ""});
      return atom::ok_v;
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
    [=](atom::tick) {
      self->state.sweep();
      if (self->state.opts.sweep_interval.count() > 0)
        self->delayed_send(self, self->state.opts.sweep_interval, atom::tick_v);
    },
  };
}

caf::expected<directory_actor>
spawn_directory(caf::actor_system& sys,
                std::shared_ptr<storage::environment> env, vault_actor vault,
                directory_options opts, size_t hasher_count,
                bool background_hashing) {
  if (hasher_count == 0)
    hasher_count = std::clamp<size_t>(std::thread::hardware_concurrency(), 1, 4);
  auto dummy = storage::hash_password(secret{storage::random_token(16)});
  if (!dummy)
    return dummy.error();
  auto hashers = spawn_hashers(sys, hasher_count, {}, background_hashing);
  return sys.spawn(directory, std::move(env), std::move(vault),
                   std::move(hashers), std::move(opts), std::move(*dummy));
}

} // namespace postern
