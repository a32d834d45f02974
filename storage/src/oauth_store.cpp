// SPDX-License-Identifier: Apache-2.0
#include "postern/storage/oauth_store.hpp"

#include "postern/mcp/json.hpp"
#include "postern/storage/grant_store.hpp"
#include "postern/storage/record.hpp"

#include <rapidjson/document.h>

namespace postern::storage {

std::string encode(const oauth_client& x) {
  mcp::json_writer w;
  w.begin_object();
  w.key("name").string(x.name);
  w.key("redirect_uris").begin_array();
  for (auto& u : x.redirect_uris)
    w.string(u);
  w.end_array();
  w.key("created_at").integer(x.created_at);
  w.key("used_at").integer(x.used_at);
  w.end_object();
  return w.str();
}

std::optional<oauth_client> decode_client(std::string_view id,
                                          std::string_view bytes) {
  rapidjson::Document d;
  d.Parse(bytes.data(), bytes.size());
  if (d.HasParseError() || !d.IsObject())
    return std::nullopt;
  oauth_client c;
  c.id = std::string{id};
  if (d.HasMember("name") && d["name"].IsString())
    c.name = d["name"].GetString();
  if (d.HasMember("redirect_uris") && d["redirect_uris"].IsArray())
    for (auto& u : d["redirect_uris"].GetArray())
      if (u.IsString())
        c.redirect_uris.emplace_back(u.GetString());
  if (d.HasMember("created_at") && d["created_at"].IsInt64())
    c.created_at = d["created_at"].GetInt64();
  if (d.HasMember("used_at") && d["used_at"].IsInt64())
    c.used_at = d["used_at"].GetInt64();
  return c;
}

std::optional<oauth_client> find_client(const txn& t, std::string_view id) {
  if (id.empty() || id.size() > 200)
    return std::nullopt;
  if (auto v = t.get(table::clients, id))
    return decode_client(id, *v);
  return std::nullopt;
}

void put_client(txn& t, const oauth_client& c) {
  t.put(table::clients, c.id, encode(c));
}

bool touch_client(txn& t, std::string_view id, int64_t now) {
  auto c = find_client(t, id);
  if (!c)
    return false;
  c->used_at = now;
  put_client(t, *c);
  return true;
}

size_t sweep_clients(txn& t, int64_t now, int64_t unused_ttl,
                     int64_t idle_ttl) {
  size_t left = 0;
  std::vector<std::string> doomed;
  t.scan(table::clients, "", [&](std::string_view key, std::string_view value) {
    auto c = decode_client(key, value);
    bool stale = !c || (c->used_at == 0 && c->created_at < now - unused_ttl)
                 || (c->used_at != 0 && c->used_at < now - idle_ttl);
    if (stale)
      doomed.emplace_back(key);
    else
      ++left;
    return true;
  });
  for (auto& k : doomed)
    t.erase(table::clients, k);
  return left;
}

// -- authorization codes ------------------------------------------------------

namespace {

constexpr uint8_t code_v1 = 1;

} // namespace

std::string encode(const code_record& x) {
  record_writer out{code_v1};
  auto& a = x.approved;
  out.bytes(a.user.value)
    .bytes(a.accounts.ids.empty() ? std::string{} : a.accounts.ids[0].value)
    .bytes(a.client_id)
    .bytes(a.client_name)
    .bytes(a.redirect_uri)
    .bytes(a.challenge)
    .bytes(a.resource)
    // Names, not bits, as in grant records.
    .bytes(format_scopes(a.scopes))
    .i64(x.expires_at)
    .boolean(x.used)
    .bytes(x.grant.value);
  write_accounts(out, a.accounts);
  write_send_rules(out, a.send);
  return out.str();
}

code_record decode_code(std::string_view bytes) {
  record_reader in{bytes};
  code_record x;
  auto& a = x.approved;
  a.user.value = in.bytes();
  if (auto first = in.bytes(); !first.empty())
    a.accounts.ids.push_back(account_id{std::move(first)});
  a.client_id = in.bytes();
  a.client_name = in.bytes();
  a.redirect_uri = in.bytes();
  a.challenge = in.bytes();
  a.resource = in.bytes();
  a.scopes = parse_scopes(in.bytes()).value_or(0);
  x.expires_at = in.i64();
  x.used = in.boolean();
  x.grant.value = in.bytes();
  read_accounts(in, a.accounts);
  read_send_rules(in, a.send);
  return x;
}

std::optional<code_record> find_code(const txn& t, std::string_view digest) {
  auto value = t.get(table::auth_codes, digest);
  if (!value)
    return std::nullopt;
  return decode_code(*value);
}

void put_code(txn& t, std::string_view digest, const code_record& rec) {
  t.put(table::auth_codes, digest, encode(rec));
}

size_t sweep_codes(txn& t, int64_t now, int64_t memory) {
  std::vector<std::string> dead;
  t.scan(table::auth_codes, "", [&](std::string_view k, std::string_view v) {
    if (decode_code(v).expires_at + memory < now)
      dead.emplace_back(k);
    return true;
  });
  for (auto& k : dead)
    t.erase(table::auth_codes, k);
  return dead.size();
}

} // namespace postern::storage
