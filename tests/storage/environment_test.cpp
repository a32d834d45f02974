// SPDX-License-Identifier: Apache-2.0
#include "postern/error.hpp"
#include "postern/storage/environment.hpp"
#include "postern/storage/record.hpp"
#include "support/lmdb_env.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>

using namespace postern;
using namespace postern::storage;

namespace {

// A small map (1 MiB), so that growing it takes little data.
class storage_env : public test::lmdb_env, public ::testing::Test {
protected:
  storage_env() : lmdb_env("postern-env", size_t{1} << 20) {
    // nop
  }
};

} // namespace

TEST_F(storage_env, put_get_erase_and_scan) {
  ASSERT_TRUE(env);
  ASSERT_FALSE(env->write([](txn& t) -> caf::error {
    t.put(table::users, "b/2", "two");
    t.put(table::users, "a/1", "one");
    t.put(table::users, "b/1", "uno");
    t.put(table::users, "c/1", "eins");
    EXPECT_FALSE(t.insert(table::users, "a/1", "again"));
    EXPECT_TRUE(t.insert(table::users, "d/1", "new"));
    return caf::none;
  }));
  ASSERT_FALSE(env->read([](const txn& t) -> caf::error {
    EXPECT_EQ(t.get(table::users, "a/1").value_or(""), "one");
    EXPECT_FALSE(t.get(table::users, "zzz"));
    EXPECT_FALSE(t.get(table::accounts, "a/1")); // tables are separate
    std::vector<std::string> seen;
    t.scan(table::users, "b/", [&](std::string_view k, std::string_view) {
      seen.emplace_back(k);
      return true;
    });
    EXPECT_EQ(seen, (std::vector<std::string>{"b/1", "b/2"}));
    seen.clear();
    t.scan_reverse(table::users, "b/",
                   [&](std::string_view k, std::string_view) {
                     seen.emplace_back(k);
                     return true;
                   });
    EXPECT_EQ(seen, (std::vector<std::string>{"b/2", "b/1"}));
    seen.clear();
    t.scan_reverse(table::users, "d/",
                   [&](std::string_view k, std::string_view) {
                     seen.emplace_back(k);
                     return true;
                   });
    EXPECT_EQ(seen, (std::vector<std::string>{"d/1"}));
    EXPECT_EQ(t.count(table::users), 5u);
    return caf::none;
  }));
  ASSERT_FALSE(env->write([](txn& t) -> caf::error {
    EXPECT_EQ(t.erase_prefix(table::users, "b/"), 2u);
    EXPECT_TRUE(t.erase(table::users, "a/1"));
    EXPECT_FALSE(t.erase(table::users, "a/1"));
    return caf::none;
  }));
  ASSERT_FALSE(env->read([](const txn& t) -> caf::error {
    EXPECT_EQ(t.count(table::users), 2u);
    return caf::none;
  }));
}

TEST_F(storage_env, an_error_aborts_the_whole_transaction) {
  auto err = env->write([](txn& t) -> caf::error {
    t.put(table::users, "k1", "v1");
    t.put(table::accounts, "k2", "v2");
    return caf::make_error(ec::invalid_argument, "changed my mind");
  });
  EXPECT_EQ(err, ec::invalid_argument);
  ASSERT_FALSE(env->read([](const txn& t) -> caf::error {
    EXPECT_FALSE(t.get(table::users, "k1"));
    EXPECT_FALSE(t.get(table::accounts, "k2"));
    return caf::none;
  }));
  // Writing in a read transaction is refused, not silently done.
  err = env->read([](const txn& t) -> caf::error {
    const_cast<txn&>(t).put(table::users, "x", "y");
    return caf::none;
  });
  EXPECT_EQ(err, ec::storage_failure);
}

TEST_F(storage_env, the_map_grows_instead_of_failing) {
  auto before = env->map_size();
  std::string big(64 * 1024, 'x');
  for (int i = 0; i < 100; ++i) { // 6.4 MB in all
    auto err = env->write([&](txn& t) -> caf::error {
      t.put(table::audit, "key" + std::to_string(i), big);
      return caf::none;
    });
    ASSERT_FALSE(err) << describe(err);
  }
  EXPECT_GT(env->map_size(), before);
  ASSERT_FALSE(env->read([](const txn& t) -> caf::error {
    EXPECT_EQ(t.count(table::audit), 100u);
    return caf::none;
  }));
  // Reopening keeps the grown size and the data.
  reopen();
  ASSERT_TRUE(env);
  EXPECT_GE(env->map_size(), size_t{6} << 20);
}

TEST_F(storage_env, newer_schema_is_refused) {
  ASSERT_FALSE(env->write([](txn& t) -> caf::error {
    t.put(table::meta, "schema_version", "999");
    return caf::none;
  }));
  env.reset();
  auto e = environment::open(options);
  ASSERT_FALSE(e);
  EXPECT_NE(describe(e.error()).find("newer Postern"), std::string::npos);
}

TEST_F(storage_env, backup_is_a_consistent_database) {
  ASSERT_FALSE(env->write([](txn& t) -> caf::error {
    for (int i = 0; i < 1000; ++i)
      t.put(table::users, "user" + std::to_string(i), std::string(100, 'u'));
    return caf::none;
  }));
  ASSERT_FALSE(env->write([](txn& t) -> caf::error {
    t.erase_prefix(table::users, "user5");
    return caf::none;
  }));
  auto backup = dir + "/backup.mdb";
  ASSERT_FALSE(env->backup(backup));
  struct stat st {};
  ASSERT_EQ(::stat(backup.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  // A second backup to the same file is refused rather than overwriting.
  EXPECT_TRUE(env->backup(backup));
  // Restore: the file is data.mdb of a new directory.
  auto restored = dir + "/restored";
  ASSERT_EQ(::mkdir(restored.c_str(), 0700), 0);
  ASSERT_EQ(std::rename(backup.c_str(), (restored + "/data.mdb").c_str()), 0);
  environment::options opts;
  opts.dir = restored;
  auto copy = environment::open(opts);
  ASSERT_TRUE(copy) << describe(copy.error());
  ASSERT_FALSE((*copy)->read([](const txn& t) -> caf::error {
    EXPECT_EQ(t.count(table::users), 1000u - 111u);
    EXPECT_TRUE(t.get(table::users, "user42"));
    EXPECT_FALSE(t.get(table::users, "user55"));
    return caf::none;
  }));
}

TEST_F(storage_env, missing_directory_is_a_clear_error) {
  environment::options opts;
  opts.dir = dir + "/does/not/exist";
  auto e = environment::open(opts);
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error(), ec::storage_failure);
  EXPECT_NE(describe(e.error()).find("does/not/exist"), std::string::npos);
}

TEST(record, round_trip) {
  record_writer out{3};
  out.u64(0).u64(300).u64(~uint64_t{0}).i64(-1).i64(-123456789).i64(42);
  out.boolean(true).bytes("").bytes(std::string("a\0b", 3));
  record_reader in{out.str()};
  EXPECT_EQ(in.version(), 3);
  EXPECT_EQ(in.u64(), 0u);
  EXPECT_EQ(in.u64(), 300u);
  EXPECT_EQ(in.u64(), ~uint64_t{0});
  EXPECT_EQ(in.i64(), -1);
  EXPECT_EQ(in.i64(), -123456789);
  EXPECT_EQ(in.i64(), 42);
  EXPECT_TRUE(in.boolean());
  EXPECT_EQ(in.bytes(), "");
  EXPECT_EQ(in.bytes(), std::string("a\0b", 3));
  EXPECT_TRUE(in.at_end());
}

TEST(record, truncated_or_garbage_input_throws) {
  record_writer out{1};
  out.bytes("hello world");
  auto bytes = out.str();
  for (size_t cut = 0; cut < bytes.size(); ++cut) {
    EXPECT_THROW(
      {
        record_reader in{std::string_view{bytes}.substr(0, cut)};
        in.bytes();
      },
      storage_error)
      << cut;
  }
  // The reader keeps a view: the bytes must outlive it.
  const std::string bad_bool_bytes("\x01\x07", 2);
  record_reader bad_bool{bad_bool_bytes};
  EXPECT_THROW(bad_bool.boolean(), storage_error);
  const std::string endless_bytes(
    "\x01\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff", 11);
  record_reader endless{endless_bytes};
  EXPECT_THROW(endless.u64(), storage_error);
}

TEST(record, big_endian_sorts_numerically) {
  EXPECT_LT(big_endian(255), big_endian(256));
  EXPECT_LT(big_endian(1), big_endian(1ull << 40));
  EXPECT_EQ(from_big_endian(big_endian(0x0102030405060708ull)),
            0x0102030405060708ull);
}
