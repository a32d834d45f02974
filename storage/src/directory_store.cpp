// SPDX-License-Identifier: Apache-2.0
#include "postern/storage/directory_store.hpp"
#include "postern/text.hpp"

#include "postern/storage/crypto.hpp"
#include "postern/storage/grant_store.hpp"
#include "postern/storage/outbox_store.hpp"
#include "postern/storage/record.hpp"

#include <atomic>
#include <cctype>
#include <limits>

namespace postern::storage {

namespace {

constexpr uint8_t v1 = 1;

void write_server(record_writer& out, const server_settings& s) {
  out.bytes(s.host)
    .u64(s.port)
    .u64(static_cast<uint64_t>(s.security))
    .bytes(s.username);
}

server_settings read_server(record_reader& in) {
  server_settings s;
  s.host = in.bytes();
  s.port = static_cast<uint16_t>(in.u64());
  s.security = static_cast<transport_security>(in.u64());
  s.username = in.bytes();
  return s;
}

} // namespace

std::string encode(const user_record& x) {
  record_writer out{v1};
  out.bytes(x.info.id.value)
    .bytes(x.info.username)
    .i64(x.info.created_at)
    .bytes(x.password_hash);
  return out.str();
}

user_record decode_user(std::string_view bytes) {
  record_reader in{bytes};
  user_record x;
  x.info.id.value = in.bytes();
  x.info.username = in.bytes();
  x.info.created_at = in.i64();
  x.password_hash = in.bytes();
  return x;
}

std::string encode(const account_settings& x) {
  record_writer out{v1};
  out.bytes(x.id.value).bytes(x.owner.value).bytes(x.label);
  write_server(out, x.imap);
  out.bytes(x.ca_file).boolean(x.has_smtp);
  if (x.has_smtp)
    write_server(out, x.smtp);
  out.boolean(x.smtp_own_password).i64(x.created_at).i64(x.updated_at);
  // A trailer: records written before accounts had aliases end here.
  std::string aliases;
  for (auto& a : x.aliases) {
    if (!aliases.empty())
      aliases += ' ';
    aliases += a;
  }
  out.bytes(aliases);
  // A second trailer: records written before OAuth accounts end here.
  out.bytes(x.oauth_provider).boolean(x.needs_signin);
  return out.str();
}

account_settings decode_account(std::string_view bytes) {
  record_reader in{bytes};
  account_settings x;
  x.id.value = in.bytes();
  x.owner.value = in.bytes();
  x.label = in.bytes();
  x.imap = read_server(in);
  x.ca_file = in.bytes();
  x.has_smtp = in.boolean();
  if (x.has_smtp)
    x.smtp = read_server(in);
  x.smtp_own_password = in.boolean();
  x.created_at = in.i64();
  x.updated_at = in.i64();
  if (!in.at_end()) {
    // Addresses never hold a space (is_sendable_address).
    auto words = in.bytes();
    for (auto word : split_words(words))
      x.aliases.emplace_back(word);
  }
  if (!in.at_end()) {
    x.oauth_provider = in.bytes();
    x.needs_signin = in.boolean();
  }
  return x;
}

std::string encode(const session_record& x) {
  record_writer out{v1};
  out.bytes(x.user.value).i64(x.created_at).i64(x.expires_at);
  return out.str();
}

session_record decode_session(std::string_view bytes) {
  record_reader in{bytes};
  session_record x;
  x.user.value = in.bytes();
  x.created_at = in.i64();
  x.expires_at = in.i64();
  return x;
}

std::string encode(const audit_event& x) {
  record_writer out{v1};
  out.i64(x.time_ms)
    .bytes(x.user.value)
    .bytes(x.actor)
    .bytes(x.action)
    .bytes(x.target)
    .bytes(x.outcome)
    .bytes(x.address);
  return out.str();
}

audit_event decode_audit(std::string_view bytes) {
  record_reader in{bytes};
  audit_event x;
  x.time_ms = in.i64();
  x.user.value = in.bytes();
  x.actor = in.bytes();
  x.action = in.bytes();
  x.target = in.bytes();
  x.outcome = in.bytes();
  x.address = in.bytes();
  return x;
}

std::string username_key(std::string_view username) {
  std::string result;
  result.reserve(username.size());
  for (auto c : username)
    result += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return result;
}

std::string account_key(const user_id& user, const account_id& account) {
  return user.value + "/" + account.value;
}

std::string audit_key(const user_id& user, int64_t time_ms) {
  // A process-wide counter keeps events of one millisecond in order; the
  // random bytes keep keys unique across processes (server and admin).
  static std::atomic<uint32_t> sequence{0};
  auto seq = big_endian(sequence.fetch_add(1)).substr(4);
  return user.value + "/" + big_endian(static_cast<uint64_t>(time_ms)) + seq
         + random_bytes(2);
}

std::optional<user_record> find_user(const txn& t, const user_id& id) {
  auto value = t.get(table::users, id.value);
  if (!value)
    return std::nullopt;
  return decode_user(*value);
}

std::optional<user_record> find_user_by_name(const txn& t,
                                             std::string_view username) {
  auto id = t.get(table::users_by_name, username_key(username));
  if (!id)
    return std::nullopt;
  return find_user(t, user_id{std::string{*id}});
}

std::optional<account_settings> find_account(const txn& t, const user_id& user,
                                             const account_id& account) {
  auto value = t.get(table::accounts, account_key(user, account));
  if (!value)
    return std::nullopt;
  return decode_account(*value);
}

std::vector<account_settings> list_accounts(const txn& t, const user_id& user) {
  std::vector<account_settings> result;
  t.scan(table::accounts, user.value + "/",
         [&](std::string_view, std::string_view value) {
           result.push_back(decode_account(value));
           return true;
         });
  return result;
}

bool erase_account(txn& t, const user_id& user, const account_id& account) {
  if (!t.erase(table::accounts, account_key(user, account)))
    return false;
  t.erase(table::credentials, account.value);
  // Grants and tokens of this account go in the same transaction; the
  // caller calls note_grants_changed() after the commit so the TOKEN
  // AUTHORITY's cache drops them at once.
  drop_account_from_grants(t, user, account);
  // Messages held for a yes can no longer be sent from it.
  erase_outbox_of_account(t, user, account);
  return true;
}

size_t erase_sessions_of(txn& t, const user_id& user) {
  std::vector<std::string> keys;
  t.scan(table::web_sessions, "", [&](std::string_view k, std::string_view v) {
    if (decode_session(v).user == user)
      keys.emplace_back(k);
    return true;
  });
  for (auto& k : keys)
    t.erase(table::web_sessions, k);
  return keys.size();
}

bool erase_user(txn& t, const user_id& user) {
  auto record = find_user(t, user);
  if (!record)
    return false;
  for (auto& account : list_accounts(t, user))
    erase_account(t, user, account.id);
  erase_sessions_of(t, user);
  erase_grants_of_user(t, user);
  erase_outbox_of_user(t, user);
  // The user's audit log goes with them.
  while (prune_audit(t, user, std::numeric_limits<int64_t>::max(), 10000) > 0)
    ; // nop
  t.erase(table::users_by_name, username_key(record->info.username));
  t.erase(table::users, user.value);
  return true;
}

void append_audit(txn& t, const audit_event& event) {
  t.put(table::audit, audit_key(event.user, event.time_ms), encode(event));
}

size_t prune_audit(txn& t, const user_id& user, int64_t before_ms,
                   size_t limit) {
  auto prefix = user.value + "/";
  std::vector<std::string> old;
  t.scan(table::audit, prefix, [&](std::string_view key, std::string_view) {
    if (old.size() >= limit || key.size() < prefix.size() + 8)
      return false;
    uint64_t ms = 0;
    for (size_t i = 0; i < 8; ++i)
      ms = (ms << 8) | static_cast<unsigned char>(key[prefix.size() + i]);
    if (static_cast<int64_t>(ms) >= before_ms)
      return false;
    old.emplace_back(key);
    return true;
  });
  for (auto& key : old)
    t.erase(table::audit, key);
  return old.size();
}

std::vector<audit_event> recent_audit(const txn& t, const user_id& user,
                                      size_t limit) {
  std::vector<audit_event> result;
  if (limit == 0)
    return result;
  t.scan_reverse(table::audit, user.value + "/",
                 [&](std::string_view, std::string_view value) {
                   result.push_back(decode_audit(value));
                   return result.size() < limit;
                 });
  return result;
}

} // namespace postern::storage
