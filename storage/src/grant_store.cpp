// SPDX-License-Identifier: Apache-2.0
#include "postern/storage/grant_store.hpp"

#include "postern/storage/crypto.hpp"
#include "postern/storage/grant_sweep.hpp"
#include "postern/storage/record.hpp"
#include "postern/text.hpp"

#include <atomic>
#include <limits>

namespace postern::storage {

namespace {

constexpr uint8_t v1 = 1;

/// Index entries under a grant: "U/G/a/" + digest and "U/G/r/" + digest.
constexpr std::string_view access_tag = "a/";
constexpr std::string_view refresh_tag = "r/";

std::string index_prefix(const user_id& user, const grant_id& grant) {
  return grant_key(user, grant) + "/";
}

/// True for "U/G", false for the index entries "U/G/...".
bool is_grant_key(std::string_view key, size_t user_len) {
  return key.find('/', user_len + 1) == std::string_view::npos;
}

std::atomic<uint64_t> epoch{0};

/// Calls `f` with each non-empty word of a space-separated list.
template <class F>
void for_each_word(std::string_view text, F f) {
  for (auto word : split_words(text))
    f(word);
}

} // namespace

// -- the accounts of a grant or an authorization code -------------------------

void write_accounts(record_writer& out, const grant_accounts& x) {
  std::string more;
  for (size_t i = 1; i < x.ids.size(); ++i) {
    if (!more.empty())
      more += ' ';
    more += x.ids[i].value;
  }
  out.bytes(more).bytes(x.preferred.value);
}

void read_accounts(record_reader& in, grant_accounts& x) {
  if (in.at_end())
    return; // written before grants reached several accounts
  for_each_word(in.bytes(), [&](std::string_view id) {
    x.ids.push_back(account_id{std::string{id}});
  });
  x.preferred.value = in.bytes();
}

// -- the send rules of a grant or an authorization code -----------------------

void write_send_rules(record_writer& out, const send_rules& x) {
  std::string patterns;
  for (auto& p : x.recipients) {
    if (!patterns.empty())
      patterns += ' ';
    patterns += p;
  }
  out.boolean(x.ask_first).bytes(patterns);
}

void read_send_rules(record_reader& in, send_rules& x) {
  if (in.at_end())
    return; // written before connections had send rules: unrestricted
  x.ask_first = in.boolean();
  for_each_word(in.bytes(), [&](std::string_view p) {
    x.recipients.emplace_back(p);
  });
}

// -- encoding -----------------------------------------------------------------

std::string encode(const grant_info& x) {
  record_writer out{v1};
  out.bytes(x.id.value)
    .bytes(x.user.value)
    // The first account where a record of one account had it: a Postern of
    // before several accounts reads a grant of its first account only.
    .bytes(x.accounts.ids.empty() ? std::string{} : x.accounts.ids[0].value)
    .bytes(x.client_id)
    .u64(static_cast<uint64_t>(x.origin))
    // Names, not bits: scopes may be added or renumbered freely.
    .bytes(format_scopes(x.scopes))
    .bytes(x.resource)
    .i64(x.created_at)
    .i64(x.expires_at)
    .u64(x.refresh_generation)
    // Added later; records without them read as empty and never used.
    .bytes(x.client_name)
    .i64(x.last_used_at);
  write_accounts(out, x.accounts);
  write_send_rules(out, x.send);
  return out.str();
}

grant_info decode_grant(std::string_view bytes) {
  record_reader in{bytes};
  grant_info x;
  x.id.value = in.bytes();
  x.user.value = in.bytes();
  if (auto first = in.bytes(); !first.empty())
    x.accounts.ids.push_back(account_id{std::move(first)});
  x.client_id = in.bytes();
  x.origin = static_cast<grant_origin>(in.u64());
  // Unknown names (from a newer Postern) are dropped: never widen access.
  x.scopes = 0;
  for_each_word(in.bytes(), [&](std::string_view name) {
    if (auto s = parse_scope(name))
      x.scopes |= bit(*s);
  });
  x.resource = in.bytes();
  x.created_at = in.i64();
  x.expires_at = in.i64();
  x.refresh_generation = in.u64();
  if (!in.at_end()) {
    x.client_name = in.bytes();
    x.last_used_at = in.i64();
  }
  read_accounts(in, x.accounts);
  read_send_rules(in, x.send);
  return x;
}

std::string encode(const access_token_record& x) {
  record_writer out{v1};
  out.bytes(x.user.value)
    .bytes(x.grant.value)
    .bytes(x.scopes == 0 ? std::string{} : format_scopes(x.scopes))
    .i64(x.issued_at)
    .i64(x.expires_at);
  return out.str();
}

access_token_record decode_access_token(std::string_view bytes) {
  record_reader in{bytes};
  access_token_record x;
  x.user.value = in.bytes();
  x.grant.value = in.bytes();
  auto names = in.bytes();
  if (!names.empty()) {
    // A token narrowed to scopes we no longer know keeps none of them, but
    // stays "narrowed" (never falls back to the grant's scopes).
    x.scopes = parse_scopes(names).value_or(0);
    if (x.scopes == 0)
      x.scopes = ~scope_set{0} & ~every_scope;
  }
  x.issued_at = in.i64();
  x.expires_at = in.i64();
  return x;
}

std::string encode(const refresh_token_record& x) {
  record_writer out{v1};
  out.bytes(x.user.value)
    .bytes(x.grant.value)
    .u64(x.generation)
    .i64(x.issued_at)
    .i64(x.expires_at);
  return out.str();
}

refresh_token_record decode_refresh_token(std::string_view bytes) {
  record_reader in{bytes};
  refresh_token_record x;
  x.user.value = in.bytes();
  x.grant.value = in.bytes();
  x.generation = in.u64();
  x.issued_at = in.i64();
  x.expires_at = in.i64();
  return x;
}

// -- keys ---------------------------------------------------------------------

std::string grant_key(const user_id& user, const grant_id& grant) {
  return user.value + "/" + grant.value;
}

grant_id new_grant_id() {
  return grant_id{random_token(16)};
}

// -- queries and changes
// --------------------------------------------------------

std::optional<grant_info> find_grant(const txn& t, const user_id& user,
                                     const grant_id& grant) {
  auto value = t.get(table::grants, grant_key(user, grant));
  if (!value)
    return std::nullopt;
  return decode_grant(*value);
}

std::vector<grant_info> list_grants(const txn& t, const user_id& user) {
  std::vector<grant_info> result;
  auto prefix = user.value + "/";
  t.scan(table::grants, prefix, [&](std::string_view k, std::string_view v) {
    if (is_grant_key(k, user.value.size()))
      result.push_back(decode_grant(v));
    return true;
  });
  return result;
}

void put_grant(txn& t, const grant_info& grant) {
  t.put(table::grants, grant_key(grant.user, grant.id), encode(grant));
}

void put_access_token(txn& t, std::string_view digest,
                      const access_token_record& rec) {
  t.put(table::access_tokens, digest, encode(rec));
  auto key = index_prefix(rec.user, rec.grant);
  key += access_tag;
  key += digest;
  t.put(table::grants, key, std::string_view{});
}

void put_refresh_token(txn& t, std::string_view digest,
                       const refresh_token_record& rec) {
  t.put(table::refresh_tokens, digest, encode(rec));
  auto key = index_prefix(rec.user, rec.grant);
  key += refresh_tag;
  key += digest;
  t.put(table::grants, key, std::string_view{});
}

std::optional<access_token_record> find_access_token(const txn& t,
                                                     std::string_view digest) {
  auto value = t.get(table::access_tokens, digest);
  if (!value)
    return std::nullopt;
  return decode_access_token(*value);
}

std::optional<refresh_token_record>
find_refresh_token(const txn& t, std::string_view digest) {
  auto value = t.get(table::refresh_tokens, digest);
  if (!value)
    return std::nullopt;
  return decode_refresh_token(*value);
}

bool erase_access_token(txn& t, std::string_view digest) {
  auto rec = find_access_token(t, digest);
  if (!rec)
    return false;
  t.erase(table::access_tokens, digest);
  auto key = index_prefix(rec->user, rec->grant);
  key += access_tag;
  key += digest;
  t.erase(table::grants, key);
  return true;
}

namespace {

/// Erases the tokens listed in the index entries under `prefix` ("U/" or
/// "U/G/") and the index entries themselves. The caller erases the grants.
void erase_indexed_tokens(txn& t, const std::string& prefix, size_t user_len) {
  std::vector<std::string> index_keys;
  t.scan(table::grants, prefix, [&](std::string_view k, std::string_view) {
    if (!is_grant_key(k, user_len))
      index_keys.emplace_back(k);
    return true;
  });
  for (auto& k : index_keys) {
    // "U/G/a/" + 32-byte digest.
    auto slash = k.find('/', user_len + 1);
    auto tag = std::string_view{k}.substr(slash + 1, 2);
    auto digest = std::string_view{k}.substr(slash + 3);
    if (tag == access_tag)
      t.erase(table::access_tokens, digest);
    else if (tag == refresh_tag)
      t.erase(table::refresh_tokens, digest);
    t.erase(table::grants, k);
  }
}

} // namespace

bool erase_grant(txn& t, const user_id& user, const grant_id& grant) {
  erase_indexed_tokens(t, index_prefix(user, grant), user.value.size());
  return t.erase(table::grants, grant_key(user, grant));
}

size_t drop_account_from_grants(txn& t, const user_id& user,
                                const account_id& account) {
  size_t n = 0;
  for (auto& g : list_grants(t, user)) {
    if (!g.accounts.remove(account))
      continue;
    ++n;
    if (g.accounts.ids.empty())
      erase_grant(t, user, g.id);
    else
      put_grant(t, g);
  }
  return n;
}

size_t erase_grants_of_user(txn& t, const user_id& user) {
  auto prefix = user.value + "/";
  auto n = list_grants(t, user).size();
  erase_indexed_tokens(t, prefix, user.value.size());
  t.erase_prefix(table::grants, prefix);
  return n;
}

namespace {

/// What one phase of the sweep found in its slices so far, removed before
/// the next phase reads (an expired grant's tokens are then gone already).
struct sweep_findings {
  std::vector<std::pair<user_id, grant_id>> expired_grants;
  std::vector<std::string> dead;       // token digests
  std::vector<std::string> dead_index; // their grant's index keys (refresh)

  /// Notes the record `k`/`v` of `phase`'s table if it is to go.
  void examine(const txn& t, int phase, int64_t now, std::string_view k,
               std::string_view v) {
    switch (phase) {
      case 0: {
        // Grants past their own end take their tokens.
        auto slash = k.find('/');
        if (slash == std::string_view::npos || !is_grant_key(k, slash))
          break;
        auto g = decode_grant(v);
        if (g.expires_at != 0 && g.expires_at <= now)
          expired_grants.emplace_back(g.user, g.id);
        break;
      }
      case 1: {
        // Tokens that expired, or whose grant is gone.
        auto rec = decode_access_token(v);
        if (rec.expires_at <= now
            || !t.get(table::grants, grant_key(rec.user, rec.grant)))
          dead.emplace_back(k);
        break;
      }
      default: {
        auto rec = decode_refresh_token(v);
        if (rec.expires_at <= now
            || !t.get(table::grants, grant_key(rec.user, rec.grant))) {
          dead.emplace_back(k);
          auto key = index_prefix(rec.user, rec.grant);
          key += refresh_tag;
          key += k;
          dead_index.push_back(std::move(key));
        }
        break;
      }
    }
  }

  /// Removes what was found in `phase` and forgets it.
  void erase(txn& t, int phase, sweep_counts& counts) {
    for (auto& [user, grant] : expired_grants)
      if (erase_grant(t, user, grant))
        ++counts.grants;
    for (size_t i = 0; i < dead.size(); ++i) {
      if (phase == 1) {
        if (erase_access_token(t, dead[i]))
          ++counts.access_tokens;
      } else {
        t.erase(table::refresh_tokens, dead[i]);
        t.erase(table::grants, dead_index[i]);
        ++counts.refresh_tokens;
      }
    }
    expired_grants.clear();
    dead.clear();
    dead_index.clear();
  }
};

} // namespace

void sweep_grants_step(txn& t, int64_t now, sweep_cursor& cursor, size_t budget,
                       sweep_counts& counts) {
  static const table tables[] = {table::grants, table::access_tokens,
                                 table::refresh_tokens};
  size_t examined = 0;
  sweep_findings found;
  // Whole slices, at least one, until the budget is spent.
  while (!cursor.done() && (examined == 0 || examined < budget)) {
    std::string prefix(1, static_cast<char>(cursor.slice));
    auto phase = cursor.phase;
    t.scan(tables[phase], prefix, [&](std::string_view k, std::string_view v) {
      ++examined;
      found.examine(t, phase, now, k, v);
      return true;
    });
    if (++cursor.slice == 256) {
      cursor.slice = 0;
      ++cursor.phase;
    }
    // Removals of this slice's phase before the next phase reads.
    if (phase != cursor.phase || cursor.done())
      found.erase(t, phase, counts);
  }
  // What the last, unfinished phase found.
  found.erase(t, cursor.phase, counts);
}

sweep_counts sweep_grants(txn& t, int64_t now) {
  sweep_counts result;
  sweep_cursor cursor;
  while (!cursor.done())
    sweep_grants_step(t, now, cursor, std::numeric_limits<size_t>::max(),
                      result);
  return result;
}

uint64_t grants_epoch() noexcept {
  return epoch.load(std::memory_order_acquire);
}

void note_grants_changed() noexcept {
  epoch.fetch_add(1, std::memory_order_acq_rel);
}

} // namespace postern::storage
