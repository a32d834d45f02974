// SPDX-License-Identifier: Apache-2.0
#define CAF_SUITE actors.vault

#include "postern/actors/vault.hpp"

#include "caf_test.hpp"
#include "postern/storage/credential_store.hpp"
#include "postern/storage/key_files.hpp"
#include "support/lmdb_env.hpp"

#include <cstdlib>

using namespace postern;

namespace {

const secret key_a{std::string(64, 'a')};
const secret key_b{std::string(64, 'b')};

struct fixture : test::lmdb_env,
                 test_coordinator_fixture<postern::test::configuration> {
  fixture() : lmdb_env("postern-vault") {
    // nop
  }

  ~fixture() override {
    if (aut)
      anon_send_exit(aut, caf::exit_reason::user_shutdown);
    run();
  }

  void start(const secret& key, std::string key_file = {}) {
    auto keys = *storage::vault_keys::derive(key);
    CAF_REQUIRE(!storage::verify_key(*env, keys));
    aut = sys.spawn(vault, env, keys, std::move(key_file));
    run();
  }

  /// Stores sealed credentials the way the DIRECTORY does.
  void store(const user_id& user, const account_id& account,
             const std::string& password) {
    account_credentials creds;
    creds.imap_password = secret{password};
    auto sealed = request<sealed_credentials>(aut, atom::seal_v, user, account,
                                              creds);
    env->write([&](storage::txn& t) -> caf::error {
      t.put(storage::table::credentials, account.value, sealed.record);
      return caf::none;
    });
  }

  template <class T, class... Ts>
  caf::error error_of(Ts... xs) {
    caf::error result;
    auto res = self->request(aut, caf::infinite, xs...);
    run();
    res.receive([](T&) {}, [&](caf::error& e) { result = std::move(e); });
    return result;
  }

  vault_actor aut;
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(vault_tests, fixture)

CAF_TEST(seal then get returns the plaintext to the caller only) {
  start(key_a);
  store(user_id{"u1"}, account_id{"a1"}, "pw-1");
  self->send(aut, atom::get_v, user_id{"u1"}, account_id{"a1"});
  expect((atom::get, user_id, account_id), from(self).to(aut));
  expect((account_credentials), from(aut).to(self));
  auto creds = request<account_credentials>(aut, atom::get_v, user_id{"u1"},
                                            account_id{"a1"});
  CAF_CHECK_EQUAL(creds.imap_password.reveal(), "pw-1");
  CAF_CHECK(creds.smtp_password.empty());
  // A message holding credentials never renders them.
  auto text = caf::deep_to_string(creds);
  CAF_CHECK_EQUAL(text.find("pw-1"), std::string::npos);
  CAF_CHECK_NOT_EQUAL(text.find("[redacted]"), std::string::npos);
  CAF_CHECK_EQUAL(error_of<account_credentials>(atom::get_v, user_id{"u2"},
                                                account_id{"a1"}),
                  ec::storage_failure);
  CAF_CHECK_EQUAL(error_of<account_credentials>(atom::get_v, user_id{"u1"},
                                                account_id{"nope"}),
                  ec::no_such_account);
}

CAF_TEST(rotation re - seals everything and the old key stops working) {
  start(key_a);
  for (int i = 0; i < 5; ++i)
    store(user_id{"u"}, account_id{"a" + std::to_string(i)},
          "pw-" + std::to_string(i));
  CAF_CHECK_EQUAL(request<uint64_t>(aut, atom::rotate_v, key_b), 5u);
  // The VAULT switched keys itself.
  auto got1 = request<account_credentials>(aut, atom::get_v, user_id{"u"},
                                           account_id{"a3"});
  // Keep the reply alive: reveal() returns a reference into it.
  CAF_CHECK_EQUAL(got1.imap_password.reveal(), "pw-3");
  CAF_CHECK_EQUAL(error_of<uint64_t>(atom::rotate_v, key_b),
                  ec::invalid_request);
  CAF_CHECK_EQUAL(error_of<uint64_t>(atom::rotate_v, secret{"nothex"}),
                  ec::invalid_configuration);
  auto old_keys = *storage::vault_keys::derive(key_a);
  CAF_CHECK(storage::verify_key(*env, old_keys));
}

CAF_TEST(a rotation by another process is picked up from the key file) {
  auto key_file = dir + "/encryption.key";
  CAF_REQUIRE(!storage::write_key_file(key_file, key_a));
  start(key_a, key_file);
  store(user_id{"u"}, account_id{"a"}, "pw");
  // "Another process" rotates: new key file, then re-sealed database.
  auto a = *storage::vault_keys::derive(key_a);
  auto b = *storage::vault_keys::derive(key_b);
  CAF_REQUIRE(storage::rotate_credentials(*env, a, b));
  std::remove(key_file.c_str());
  CAF_REQUIRE(!storage::write_key_file(key_file, key_b));
  auto got2 = request<account_credentials>(aut, atom::get_v, user_id{"u"},
                                           account_id{"a"});
  // Keep the reply alive: reveal() returns a reference into it.
  CAF_CHECK_EQUAL(got2.imap_password.reveal(), "pw");
}

CAF_TEST(sealing after a rotation by another process uses the new key) {
  auto key_file = dir + "/encryption.key";
  CAF_REQUIRE(!storage::write_key_file(key_file, key_a));
  start(key_a, key_file);
  store(user_id{"u"}, account_id{"a"}, "pw");
  auto a = *storage::vault_keys::derive(key_a);
  auto b = *storage::vault_keys::derive(key_b);
  CAF_REQUIRE(storage::rotate_credentials(*env, a, b));
  std::remove(key_file.c_str());
  CAF_REQUIRE(!storage::write_key_file(key_file, key_b));
  // No read has met a new record yet: the seal itself notices the check
  // record names another key and loads it.
  account_credentials creds;
  creds.imap_password = secret{"new-pw"};
  auto sealed = request<sealed_credentials>(aut, atom::seal_v, user_id{"u"},
                                            account_id{"b"}, creds);
  CAF_CHECK_EQUAL(storage::sealed_key_id(sealed.record), b.key_id);
  env->read([&](const storage::txn& t) -> caf::error {
    CAF_CHECK(storage::sealed_with_current_key(t, sealed.record));
    return caf::none;
  });
  auto opened = storage::open_credentials(b, user_id{"u"}, account_id{"b"},
                                          sealed.record);
  CAF_REQUIRE(opened);
  CAF_CHECK_EQUAL(opened->imap_password.reveal(), "new-pw");
}

CAF_TEST(sealing refuses when the rotated key cannot be loaded) {
  // ENCRYPTION_KEY from the environment: no key file to reload.
  start(key_a);
  auto a = *storage::vault_keys::derive(key_a);
  auto b = *storage::vault_keys::derive(key_b);
  CAF_REQUIRE(storage::rotate_credentials(*env, a, b));
  account_credentials creds;
  creds.imap_password = secret{"pw"};
  auto err = error_of<sealed_credentials>(atom::seal_v, user_id{"u"},
                                          account_id{"c"}, creds);
  CAF_CHECK_EQUAL(err, ec::invalid_configuration);
  CAF_CHECK_NOT_EQUAL(describe(err).find("restart"), std::string::npos);
  CAF_CHECK_EQUAL(describe(err).find(std::string(64, 'b')), std::string::npos);
}

CAF_TEST(a record sealed under a rotated - away key is refused in the write) {
  start(key_a);
  account_credentials creds;
  creds.imap_password = secret{"pw"};
  auto stale = request<sealed_credentials>(aut, atom::seal_v, user_id{"u"},
                                           account_id{"d"}, creds);
  auto a = *storage::vault_keys::derive(key_a);
  auto b = *storage::vault_keys::derive(key_b);
  CAF_REQUIRE(storage::rotate_credentials(*env, a, b));
  env->read([&](const storage::txn& t) -> caf::error {
    CAF_CHECK(!storage::sealed_with_current_key(t, stale.record));
    return caf::none;
  });
}

CAF_TEST_FIXTURE_SCOPE_END()
