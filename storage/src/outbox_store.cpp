// SPDX-License-Identifier: Apache-2.0
#include "postern/storage/outbox_store.hpp"

#include "postern/storage/crypto.hpp"
#include "postern/storage/record.hpp"

#include <algorithm>

namespace postern::storage {

namespace {

constexpr uint8_t entry_version = 1;
constexpr uint8_t mail_version = 1;

std::string key_of(const user_id& user, const std::string& id) {
  return user.value + "/" + id;
}

void write_strings(record_writer& out, const std::vector<std::string>& xs) {
  out.u64(xs.size());
  for (auto& x : xs)
    out.bytes(x);
}

void read_strings(record_reader& in, std::vector<std::string>& xs) {
  auto n = in.u64();
  xs.clear();
  for (uint64_t i = 0; i < n; ++i)
    xs.push_back(in.bytes());
}

/// The entry without its bytes and envelope (those are in outbox_mail).
std::string encode_entry(const outbox_entry& x) {
  record_writer out{entry_version};
  out.bytes(x.id)
    .bytes(x.user.value)
    .bytes(x.account.value)
    .bytes(x.grant.value)
    .bytes(x.client_name)
    .bytes(x.account_label)
    .u64(static_cast<uint64_t>(x.status))
    .i64(x.created)
    .i64(x.expires)
    .i64(x.decided)
    .bytes(x.error)
    .bytes(x.sent_folder);
  auto& m = x.message;
  out.bytes(m.message_id).bytes(m.from);
  write_strings(out, m.to);
  write_strings(out, m.cc);
  write_strings(out, m.bcc);
  out.bytes(m.subject).bytes(m.text);
  write_strings(out, m.attachments);
  return out.str();
}

outbox_entry decode_entry(std::string_view bytes) {
  record_reader in{bytes};
  outbox_entry x;
  x.id = in.bytes();
  x.user.value = in.bytes();
  x.account.value = in.bytes();
  x.grant.value = in.bytes();
  x.client_name = in.bytes();
  x.account_label = in.bytes();
  auto status = in.u64();
  x.status = status <= 3 ? static_cast<outbox_status>(status)
                         : outbox_status::expired;
  x.created = in.i64();
  x.expires = in.i64();
  x.decided = in.i64();
  x.error = in.bytes();
  x.sent_folder = in.bytes();
  auto& m = x.message;
  m.message_id = in.bytes();
  m.from = in.bytes();
  read_strings(in, m.to);
  read_strings(in, m.cc);
  read_strings(in, m.bcc);
  m.subject = in.bytes();
  m.text = in.bytes();
  read_strings(in, m.attachments);
  return x;
}

std::string encode_mail(const held_message& m) {
  record_writer out{mail_version};
  out.bytes(m.sender);
  write_strings(out, m.recipients);
  out.bytes(m.data);
  return out.str();
}

void decode_mail(std::string_view bytes, held_message& m) {
  record_reader in{bytes};
  m.sender = in.bytes();
  read_strings(in, m.recipients);
  m.data = in.bytes();
}

bool decided(const outbox_entry& x) {
  return x.status != outbox_status::pending;
}

} // namespace

std::string new_outbox_id() {
  return random_token(18);
}

void put_outbox_entry(txn& t, const outbox_entry& entry) {
  auto key = key_of(entry.user, entry.id);
  t.put(table::outbox, key, encode_entry(entry));
  t.put(table::outbox_mail, key, encode_mail(entry.message));
}

std::optional<outbox_entry>
find_outbox_entry(const txn& t, const user_id& user, const std::string& id) {
  if (id.empty() || id.find('/') != std::string::npos)
    return std::nullopt;
  auto v = t.get(table::outbox, key_of(user, id));
  if (!v)
    return std::nullopt;
  return decode_entry(*v);
}

std::optional<outbox_entry>
load_held_message(const txn& t, const user_id& user, const std::string& id) {
  auto entry = find_outbox_entry(t, user, id);
  if (!entry || decided(*entry))
    return std::nullopt;
  auto mail = t.get(table::outbox_mail, key_of(user, id));
  if (!mail)
    return std::nullopt;
  decode_mail(*mail, entry->message);
  return entry;
}

std::vector<outbox_entry> list_outbox(const txn& t, const user_id& user) {
  std::vector<outbox_entry> out;
  t.scan(table::outbox, user.value + "/",
         [&](std::string_view, std::string_view v) {
           out.push_back(decode_entry(v));
           return true;
         });
  std::stable_sort(out.begin(), out.end(), [](auto& x, auto& y) {
    return x.created > y.created;
  });
  return out;
}

size_t count_pending(const txn& t, const user_id& user) {
  size_t n = 0;
  for (auto& e : list_outbox(t, user))
    if (!decided(e))
      ++n;
  return n;
}

std::optional<outbox_entry>
decide_outbox_entry(txn& t, const user_id& user, const std::string& id,
                    outbox_status to, int64_t now,
                    const std::string& sent_folder) {
  auto entry = find_outbox_entry(t, user, id);
  if (!entry || decided(*entry) || to == outbox_status::pending)
    return std::nullopt;
  entry->status = to;
  entry->decided = now;
  entry->sent_folder = sent_folder;
  if (to == outbox_status::sent)
    entry->error.clear();
  auto key = key_of(user, id);
  t.put(table::outbox, key, encode_entry(*entry));
  t.erase(table::outbox_mail, key);
  return entry;
}

void note_outbox_failure(txn& t, const user_id& user, const std::string& id,
                         const std::string& error) {
  auto entry = find_outbox_entry(t, user, id);
  if (!entry || decided(*entry))
    return;
  entry->error = error;
  t.put(table::outbox, key_of(user, id), encode_entry(*entry));
}

outbox_sweep sweep_outbox(txn& t, int64_t now, int64_t forget_before,
                          size_t limit) {
  outbox_sweep result;
  std::vector<outbox_entry> expiring;
  std::vector<std::string> dropping;
  t.scan(table::outbox, "", [&](std::string_view key, std::string_view v) {
    auto e = decode_entry(v);
    if (!decided(e) && e.expires <= now && expiring.size() < limit)
      expiring.push_back(std::move(e));
    else if (decided(e) && e.decided < forget_before
             && dropping.size() < limit)
      dropping.emplace_back(key);
    return expiring.size() < limit || dropping.size() < limit;
  });
  for (auto& e : expiring)
    if (auto done = decide_outbox_entry(t, e.user, e.id,
                                        outbox_status::expired, now))
      result.expired.push_back(std::move(*done));
  for (auto& k : dropping) {
    t.erase(table::outbox, k);
    t.erase(table::outbox_mail, k);
  }
  result.dropped = dropping.size();
  return result;
}

void erase_outbox_of_account(txn& t, const user_id& user,
                             const account_id& account) {
  for (auto& e : list_outbox(t, user))
    if (e.account == account) {
      auto key = key_of(user, e.id);
      t.erase(table::outbox, key);
      t.erase(table::outbox_mail, key);
    }
}

void erase_outbox_of_user(txn& t, const user_id& user) {
  t.erase_prefix(table::outbox, user.value + "/");
  t.erase_prefix(table::outbox_mail, user.value + "/");
}

} // namespace postern::storage
