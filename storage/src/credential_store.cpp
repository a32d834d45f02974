// SPDX-License-Identifier: Apache-2.0
#include "postern/storage/credential_store.hpp"

#include "postern/config.hpp"
#include "postern/error.hpp"
#include "postern/storage/crypto.hpp"
#include "postern/storage/record.hpp"

#include <vector>

namespace postern::storage {

namespace {

constexpr std::string_view hkdf_salt = "postern/vault/v1";
constexpr std::string_view check_key = "vault_check";
constexpr std::string_view check_plaintext = "postern vault check v1";
constexpr uint8_t record_version = 1;

std::string aad(const user_id& user, const account_id& account,
                std::string_view field) {
  // Length-prefixing keeps ("a", "b|c") and ("a|b", "c") apart.
  std::string result = "postern-credential-v1";
  for (auto part :
       {std::string_view{user.value}, std::string_view{account.value}, field}) {
    result += '|';
    result += std::to_string(part.size());
    result += ':';
    result += part;
  }
  return result;
}

struct parsed_record {
  std::string key_id;
  std::string user;
  std::string imap;
  bool has_smtp = false;
  std::string smtp;
  /// Sealed refresh token; empty in records of password accounts and in
  /// records written before OAuth accounts (which end after `smtp`).
  std::string oauth_refresh;
};

parsed_record parse(std::string_view bytes) {
  record_reader in{bytes};
  parsed_record r;
  r.key_id = in.bytes();
  r.user = in.bytes();
  r.imap = in.bytes();
  r.has_smtp = in.boolean();
  r.smtp = in.bytes();
  if (!in.at_end())
    r.oauth_refresh = in.bytes();
  return r;
}

caf::error wrong_key(const std::string& record_key, const vault_keys& keys) {
  return caf::make_error(
    ec::invalid_configuration,
    "stored credentials were sealed with key " + record_key
      + " but ENCRYPTION_KEY is key " + keys.key_id
      + "; start Postern with the key this DATA_DIR uses (after "
        "`postern admin rotate-key`, the new one)");
}

} // namespace

caf::expected<vault_keys> vault_keys::derive(const secret& master_hex) {
  if (!is_hex_key(master_hex.reveal()))
    return caf::make_error(ec::invalid_configuration,
                           "ENCRYPTION_KEY must be exactly 64 hexadecimal "
                           "characters");
  auto raw = from_hex(master_hex.reveal());
  secret master{std::move(*raw)};
  vault_keys keys;
  keys.credential_key = hkdf_sha256(master.reveal(), hkdf_salt,
                                    "credentials/aes-256-gcm");
  auto id = hkdf_sha256(master.reveal(), hkdf_salt, "key-id", 8);
  keys.key_id = to_hex(id.reveal());
  return keys;
}

caf::expected<std::string>
seal_credentials(const vault_keys& keys, const user_id& user,
                 const account_id& account, const account_credentials& creds) {
  auto imap = seal(keys.credential_key, creds.imap_password.reveal(),
                   aad(user, account, "imap"));
  if (!imap)
    return imap.error();
  std::string smtp;
  auto has_smtp = !creds.smtp_password.empty();
  if (has_smtp) {
    auto sealed = seal(keys.credential_key, creds.smtp_password.reveal(),
                       aad(user, account, "smtp"));
    if (!sealed)
      return sealed.error();
    smtp = std::move(*sealed);
  }
  std::string refresh;
  if (!creds.oauth_refresh_token.empty()) {
    auto sealed = seal(keys.credential_key, creds.oauth_refresh_token.reveal(),
                       aad(user, account, "oauth-refresh"));
    if (!sealed)
      return sealed.error();
    refresh = std::move(*sealed);
  }
  record_writer out{record_version};
  out.bytes(keys.key_id)
    .bytes(user.value)
    .bytes(*imap)
    .boolean(has_smtp)
    .bytes(smtp)
    .bytes(refresh);
  return out.str();
}

caf::expected<account_credentials>
open_credentials(const vault_keys& keys, const user_id& user,
                 const account_id& account, std::string_view record) {
  parsed_record r;
  try {
    r = parse(record);
  } catch (const storage_error&) {
    return caf::make_error(ec::storage_failure,
                           "the stored credentials of this account are "
                           "corrupt; enter the password again");
  }
  if (r.key_id != keys.key_id)
    return wrong_key(r.key_id, keys);
  if (r.user != user.value)
    return caf::make_error(ec::storage_failure,
                           "stored credentials belong to another user");
  // Each field under its own AAD; `what` names it for the person.
  auto open_field = [&](const std::string& sealed, std::string_view field,
                        secret& into, std::string_view what,
                        std::string_view advice) -> caf::error {
    auto opened = open_sealed(keys.credential_key, sealed,
                              aad(user, account, field));
    if (!opened)
      return caf::make_error(ec::storage_failure,
                             std::string{what}
                               + " does not decrypt (tampered or moved); "
                               + std::string{advice});
    into = std::move(*opened);
    return caf::none;
  };
  account_credentials result;
  if (auto e = open_field(r.imap, "imap", result.imap_password,
                          "the stored IMAP password", "enter it again"))
    return e;
  if (r.has_smtp)
    if (auto e = open_field(r.smtp, "smtp", result.smtp_password,
                            "the stored SMTP password", "enter it again"))
      return e;
  if (!r.oauth_refresh.empty())
    if (auto e = open_field(r.oauth_refresh, "oauth-refresh",
                            result.oauth_refresh_token,
                            "the stored sign-in of this account",
                            "sign in again"))
      return e;
  return result;
}

std::optional<std::string> sealed_key_id(std::string_view record) {
  try {
    return parse(record).key_id;
  } catch (const storage_error&) {
    return std::nullopt;
  }
}

std::optional<std::string> current_key_id(const txn& t) {
  auto stored = t.get(table::meta, check_key);
  if (!stored)
    return std::nullopt;
  try {
    record_reader in{*stored};
    return in.bytes();
  } catch (const storage_error&) {
    return std::nullopt;
  }
}

bool sealed_with_current_key(const txn& t, std::string_view record) {
  auto current = current_key_id(t);
  auto sealed = sealed_key_id(record);
  return current && sealed && *current == *sealed;
}

caf::error verify_key(environment& env, const vault_keys& keys) {
  return env.write([&](txn& t) -> caf::error {
    auto stored = t.get(table::meta, check_key);
    if (!stored) {
      auto sealed = seal(keys.credential_key, check_plaintext, keys.key_id);
      if (!sealed)
        return sealed.error();
      record_writer out{record_version};
      out.bytes(keys.key_id).bytes(*sealed);
      t.put(table::meta, check_key, out.str());
      return caf::none;
    }
    record_reader in{*stored};
    auto key_id = in.bytes();
    auto sealed = in.bytes();
    if (key_id != keys.key_id)
      return caf::make_error(
        ec::invalid_configuration,
        "ENCRYPTION_KEY does not match this DATA_DIR: its data was sealed "
        "with key "
          + key_id + ", this key is " + keys.key_id
          + ". Use the original key (or, after `postern admin rotate-key`, "
            "the new one)");
    auto opened = open_sealed(keys.credential_key, sealed, key_id);
    if (!opened || opened->reveal() != check_plaintext)
      return caf::make_error(ec::invalid_configuration,
                             "the vault check record does not decrypt with "
                             "ENCRYPTION_KEY; the database may be damaged");
    return caf::none;
  });
}

caf::expected<size_t> rotate_credentials(environment& env,
                                         const vault_keys& current,
                                         const vault_keys& next) {
  size_t count = 0;
  auto err = env.write([&](txn& t) -> caf::error {
    count = 0;
    // Collect first: writing while a cursor walks the same table is not
    // worth the subtlety.
    std::vector<std::pair<std::string, std::string>> records;
    t.scan(table::credentials, "", [&](std::string_view k, std::string_view v) {
      records.emplace_back(std::string{k}, std::string{v});
      return true;
    });
    for (auto& [key, value] : records) {
      account_id account{key};
      auto r = parse(value);
      user_id user{r.user};
      auto creds = open_credentials(current, user, account, value);
      if (!creds)
        return caf::make_error(ec::storage_failure,
                               "cannot rotate: account " + key + ": "
                                 + describe(creds.error()));
      auto sealed = seal_credentials(next, user, account, *creds);
      if (!sealed)
        return sealed.error();
      t.put(table::credentials, key, *sealed);
      ++count;
    }
    auto check = seal(next.credential_key, check_plaintext, next.key_id);
    if (!check)
      return check.error();
    record_writer out{record_version};
    out.bytes(next.key_id).bytes(*check);
    t.put(table::meta, check_key, out.str());
    return caf::none;
  });
  if (err)
    return err;
  return count;
}

} // namespace postern::storage
