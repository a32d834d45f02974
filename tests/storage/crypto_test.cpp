// SPDX-License-Identifier: Apache-2.0
#include "postern/error.hpp"
#include "postern/storage/credential_store.hpp"
#include "postern/storage/crypto.hpp"
#include "postern/storage/directory_store.hpp"
#include "support/lmdb_env.hpp"

#include <gtest/gtest.h>

#include <chrono>

using namespace postern;
using namespace postern::storage;

TEST(crypto, hkdf_matches_rfc5869_test_case_1) {
  auto ikm = std::string(22, '\x0b');
  auto salt = *from_hex("000102030405060708090a0b0c");
  auto info = *from_hex("f0f1f2f3f4f5f6f7f8f9");
  auto okm = hkdf_sha256(ikm, salt, info, 42);
  EXPECT_EQ(to_hex(okm.reveal()),
            "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf"
            "34007208d5b887185865");
}

TEST(crypto, sha256_and_hex_and_base64url) {
  EXPECT_EQ(to_hex(sha256("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(from_hex("00ffAB").value(), std::string("\x00\xff\xab", 3));
  EXPECT_FALSE(from_hex("0"));
  EXPECT_FALSE(from_hex("zz"));
  EXPECT_EQ(base64url("\xfb\xff"), "-_8");
  EXPECT_EQ(base64url("foobar"), "Zm9vYmFy");
  EXPECT_EQ(base64url("fo"), "Zm8");
  EXPECT_EQ(random_token(32).size(), 43u);
  EXPECT_NE(random_token(), random_token());
  auto uuid = new_uuid();
  ASSERT_EQ(uuid.size(), 36u);
  EXPECT_EQ(uuid[14], '4');
}

TEST(crypto, seal_and_open) {
  secret key{random_bytes(32)};
  auto sealed = seal(key, "hunter2", "aad-1");
  ASSERT_TRUE(sealed);
  EXPECT_EQ(sealed->size(), 12u + 7u + 16u);
  EXPECT_EQ(sealed->find("hunter2"), std::string::npos);
  auto opened = open_sealed(key, *sealed, "aad-1");
  ASSERT_TRUE(opened);
  EXPECT_EQ(opened->reveal(), "hunter2");
  // Same plaintext, fresh nonce: different ciphertext.
  EXPECT_NE(*seal(key, "hunter2", "aad-1"), *sealed);
  // Wrong AAD, wrong key, any flipped byte: refused, never garbage.
  EXPECT_FALSE(open_sealed(key, *sealed, "aad-2"));
  EXPECT_FALSE(open_sealed(secret{random_bytes(32)}, *sealed, "aad-1"));
  for (size_t i = 0; i < sealed->size(); ++i) {
    auto tampered = *sealed;
    tampered[i] = static_cast<char>(tampered[i] ^ 1);
    EXPECT_FALSE(open_sealed(key, tampered, "aad-1")) << i;
  }
  EXPECT_FALSE(open_sealed(key, "short", "aad-1"));
  EXPECT_FALSE(seal(secret{"too short"}, "x", ""));
}

TEST(crypto, argon2id_hash_and_verify) {
  auto start = std::chrono::steady_clock::now();
  auto hash = hash_password(secret{"correct horse battery"});
  auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(hash) << describe(hash.error());
  EXPECT_EQ(hash->rfind("$argon2id$v=19$m=19456,t=2,p=1$", 0), 0u) << *hash;
  EXPECT_TRUE(verify_password(secret{"correct horse battery"}, *hash));
  EXPECT_FALSE(verify_password(secret{"correct horse batterY"}, *hash));
  EXPECT_FALSE(verify_password(secret{"x"}, "not a hash"));
  // Reported, not asserted: benchmarks check speed, tests check behaviour.
  std::cout
    << "[ info ] one Argon2id hash took "
    << std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count()
    << " ms\n";
}

TEST(credential_store, seal_open_and_bindings) {
  auto keys = vault_keys::derive(secret{std::string(64, 'a')});
  ASSERT_TRUE(keys);
  EXPECT_EQ(keys->key_id.size(), 16u);
  auto other = vault_keys::derive(secret{std::string(64, 'b')});
  EXPECT_NE(keys->key_id, other->key_id);
  EXPECT_FALSE(vault_keys::derive(secret{"nothex"}));
  account_credentials creds;
  creds.imap_password = secret{"imap-secret"};
  creds.smtp_password = secret{"smtp-secret"};
  user_id alice{"u-alice"};
  account_id work{"a-work"};
  auto record = seal_credentials(*keys, alice, work, creds);
  ASSERT_TRUE(record);
  EXPECT_EQ(record->find("imap-secret"), std::string::npos);
  EXPECT_EQ(sealed_key_id(*record).value_or(""), keys->key_id);
  auto opened = open_credentials(*keys, alice, work, *record);
  ASSERT_TRUE(opened) << describe(opened.error());
  EXPECT_EQ(opened->imap_password.reveal(), "imap-secret");
  EXPECT_EQ(opened->smtp_password.reveal(), "smtp-secret");
  // Another account or user: refused (AAD binding).
  EXPECT_FALSE(open_credentials(*keys, alice, account_id{"a-home"}, *record));
  EXPECT_FALSE(open_credentials(*keys, user_id{"u-bob"}, work, *record));
  // Another key: a clear error naming both key ids.
  auto wrong = open_credentials(*other, alice, work, *record);
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error(), ec::invalid_configuration);
  EXPECT_NE(describe(wrong.error()).find(keys->key_id), std::string::npos);
  // Garbage: an error, not a crash.
  EXPECT_FALSE(open_credentials(*keys, alice, work, "\x01garbage"));
  EXPECT_FALSE(sealed_key_id("\x01\xff"));
}

TEST(credential_store, wrong_key_at_startup_and_rotation) {
  test::lmdb_env db{"postern-vault"};
  auto& env = db.env;
  auto a = *vault_keys::derive(secret{std::string(64, 'a')});
  auto b = *vault_keys::derive(secret{std::string(64, 'b')});
  ASSERT_FALSE(verify_key(*env, a)); // first use writes the check
  ASSERT_FALSE(verify_key(*env, a));
  auto err = verify_key(*env, b);
  ASSERT_TRUE(err);
  EXPECT_NE(describe(err).find("does not match"), std::string::npos);
  // Seal two accounts under a, rotate to b, open under b only.
  ASSERT_FALSE(env->write([&](txn& t) -> caf::error {
    for (auto id : {"acc1", "acc2"}) {
      account_credentials c;
      c.imap_password = secret{std::string{"pw-"} + id};
      t.put(table::credentials, id,
            *seal_credentials(a, user_id{"u1"}, account_id{id}, c));
    }
    return caf::none;
  }));
  auto count = rotate_credentials(*env, a, b);
  ASSERT_TRUE(count) << describe(count.error());
  EXPECT_EQ(*count, 2u);
  EXPECT_FALSE(verify_key(*env, b));
  EXPECT_TRUE(verify_key(*env, a));
  ASSERT_FALSE(env->read([&](const txn& t) -> caf::error {
    auto rec = t.get(table::credentials, "acc2");
    auto opened = open_credentials(b, user_id{"u1"}, account_id{"acc2"}, *rec);
    EXPECT_TRUE(opened);
    if (opened) {
      EXPECT_EQ(opened->imap_password.reveal(), "pw-acc2");
    }
    EXPECT_FALSE(open_credentials(a, user_id{"u1"}, account_id{"acc2"}, *rec));
    return caf::none;
  }));
  // Rotating with the wrong current key changes nothing.
  auto c = *vault_keys::derive(secret{std::string(64, 'c')});
  EXPECT_FALSE(rotate_credentials(*env, a, c));
  EXPECT_FALSE(verify_key(*env, b));
}

TEST(credential_store, oauth_refresh_token_is_sealed_on_its_own) {
  auto keys = vault_keys::derive(secret{std::string(64, 'c')});
  ASSERT_TRUE(keys);
  user_id alice{"u-alice"};
  account_id work{"a-work"};
  account_credentials creds;
  creds.oauth_refresh_token = secret{"rt-provider-secret"};
  auto record = seal_credentials(*keys, alice, work, creds);
  ASSERT_TRUE(record);
  EXPECT_EQ(record->find("rt-provider-secret"), std::string::npos);
  auto opened = open_credentials(*keys, alice, work, *record);
  ASSERT_TRUE(opened) << describe(opened.error());
  EXPECT_EQ(opened->oauth_refresh_token.reveal(), "rt-provider-secret");
  EXPECT_TRUE(opened->imap_password.empty());
  EXPECT_FALSE(open_credentials(*keys, alice, account_id{"a-home"}, *record));
  // Re-sealed by a rotation of ENCRYPTION_KEY, it still opens.
  auto next = vault_keys::derive(secret{std::string(64, 'd')});
  auto again = seal_credentials(*next, alice, work, *opened);
  ASSERT_TRUE(again);
  auto reopened = open_credentials(*next, alice, work, *again);
  ASSERT_TRUE(reopened);
  EXPECT_EQ(reopened->oauth_refresh_token.reveal(), "rt-provider-secret");
  // A record of a password account has no refresh token; the password
  // field's ciphertext does not open as one (its own AAD field).
  account_credentials pw;
  pw.imap_password = secret{"imap"};
  auto plain = seal_credentials(*keys, alice, work, pw);
  ASSERT_TRUE(plain);
  auto plain_opened = open_credentials(*keys, alice, work, *plain);
  ASSERT_TRUE(plain_opened);
  EXPECT_TRUE(plain_opened->oauth_refresh_token.empty());
}

TEST(directory_store, oauth_accounts_round_trip_and_old_records_read) {
  account_settings a;
  a.id = account_id{"a1"};
  a.owner = user_id{"u1"};
  a.label = "Work";
  a.imap = {"outlook.office365.com", 993, transport_security::tls,
            "me@contoso.example"};
  a.has_smtp = true;
  a.smtp = {"smtp.office365.com", 587, transport_security::starttls,
            "me@contoso.example"};
  a.aliases = {"sales@contoso.example"};
  a.oauth_provider = "microsoft";
  a.needs_signin = true;
  auto back = decode_account(encode(a));
  EXPECT_EQ(back.oauth_provider, "microsoft");
  EXPECT_TRUE(back.needs_signin);
  EXPECT_EQ(back.aliases, a.aliases);
  EXPECT_EQ(back.smtp.port, 587);
  // A record written before OAuth accounts (no second trailer) reads as a
  // password account.
  auto bytes = encode(a);
  auto old = bytes.substr(0, bytes.size() - (1 + 9 + 1));
  auto old_back = decode_account(old);
  EXPECT_TRUE(old_back.oauth_provider.empty());
  EXPECT_FALSE(old_back.needs_signin);
  EXPECT_EQ(old_back.aliases, a.aliases);
}
