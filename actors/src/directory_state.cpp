// SPDX-License-Identifier: Apache-2.0
// The DIRECTORY's state: each member is one LMDB transaction (or none), run
// synchronously from a handler in directory.cpp.
#include "postern/actors/account_rules.hpp"
#include "postern/actors/directory.hpp"
#include "postern/clock.hpp"
#include "postern/error.hpp"
#include "postern/log.hpp"
#include "postern/storage/credential_store.hpp"
#include "postern/storage/crypto.hpp"
#include "postern/storage/grant_store.hpp"
#include "postern/storage/record.hpp"

#include <algorithm>

namespace postern {

namespace {

/// Web sessions (logged-in browsers) one user keeps at most.
constexpr size_t max_sessions_per_user = 20;

caf::error invalid(std::string field, std::string sentence) {
  return make_field_error(ec::invalid_argument, std::move(field),
                          std::move(sentence));
}

/// Sessions are stored under a hash of the cookie's value.
std::string session_key(const std::string& token) {
  return storage::sha256(token);
}

} // namespace

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
        return make_field_error(ec::forbidden, "invite",
                                "this invite code is not valid (or was used)");
      storage::record_reader in{*invite};
      if (in.i64() < unix_seconds())
        return make_field_error(ec::forbidden, "invite",
                                "this invite code has expired");
      t.erase(storage::table::invites, key);
    }
    if (!t.insert(storage::table::users_by_name,
                  storage::username_key(username), rec.info.id.value))
      return make_field_error(ec::already_exists, "username",
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
                               const account_credentials* typed,
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
      // Checked again in the transaction that writes: an edit that raced
      // this one may have moved the servers since the handler looked.
      if (typed)
        if (auto moved = check_passwords_follow_servers(*old, settings, *typed))
          return moved;
      if (!creds && settings.smtp_own_password && !old->smtp_own_password)
        return invalid("smtp_password", "enter the SMTP password");
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
  // Tokens carry the names of their accounts (tool calls name an account
  // by label or address): a renamed account is seen at the next call.
  if (!is_new)
    storage::note_grants_changed();
  return settings;
}

caf::expected<account_settings>
directory_state::record_signin(const user_id& user, const account_id& account,
                               const sealed_credentials* creds,
                               bool needs_signin, bool* stale_key) {
  account_settings settings;
  auto err = env->write([&](storage::txn& t) -> caf::error {
    auto old = storage::find_account(t, user, account);
    if (!old)
      return caf::make_error(ec::no_such_account, "no such email account");
    if (!uses_oauth(*old))
      return caf::make_error(ec::invalid_argument,
                             "this account signs in with a password, not "
                             "with a provider");
    settings = std::move(*old);
    settings.needs_signin = needs_signin;
    settings.updated_at = unix_seconds();
    if (creds) {
      if (!storage::sealed_with_current_key(t, creds->record)) {
        if (stale_key != nullptr)
          *stale_key = true;
        return caf::make_error(ec::storage_failure,
                               "the encryption key changed while this "
                               "sign-in was being saved; sign in again");
      }
      t.put(storage::table::credentials, settings.id.value, creds->record);
    }
    t.put(storage::table::accounts, storage::account_key(user, account),
          storage::encode(settings));
    return caf::none;
  });
  if (err)
    return err;
  return settings;
}

caf::expected<account_settings>
directory_state::lookup_account(const user_id& user,
                                const account_id& account) {
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
    result = storage::recent_audit(
      t, user, static_cast<size_t>(std::min<uint64_t>(limit, 1000)));
    return caf::none;
  });
  if (err)
    return err;
  return result;
}

caf::expected<std::string> directory_state::create_invite(int64_t ttl_seconds) {
  if (ttl_seconds <= 0)
    return caf::make_error(ec::invalid_argument,
                           "an invite must be valid for at least one second");
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
    t.scan(storage::table::users, "",
           [&](std::string_view k, std::string_view) {
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

} // namespace postern
