// SPDX-License-Identifier: Apache-2.0
#include "postern/error.hpp"
#include "postern/storage/key_files.hpp"
#include "support/temp_dir.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <unistd.h>

#include <cstdlib>
#include <fstream>

using namespace postern;
using namespace postern::storage;

namespace {

class key_files : public ::testing::Test {
protected:
  void SetUp() override {
    cfg.data_dir = root + "/nested/data";
  }

  static unsigned mode_of(const std::string& path) {
    struct stat st {};
    EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
    return st.st_mode & 0777;
  }

  static std::string read(const std::string& path) {
    std::ifstream in{path};
    return {std::istreambuf_iterator<char>{in}, {}};
  }

  test::temp_dir tmp{"postern-keys"};
  std::string root = tmp.path();
  config cfg;
};

} // namespace

TEST_F(key_files, generates_keys_once_with_private_permissions) {
  auto first = ensure_keys(cfg);
  ASSERT_TRUE(first) << describe(first.error());
  EXPECT_EQ(first->encryption_key, key_origin::generated);
  EXPECT_EQ(first->session_secret, key_origin::generated);
  ASSERT_TRUE(cfg.encryption_key && cfg.session_secret);
  EXPECT_TRUE(is_hex_key(cfg.encryption_key->reveal()));
  EXPECT_TRUE(is_hex_key(cfg.session_secret->reveal()));
  EXPECT_NE(cfg.encryption_key->reveal(), cfg.session_secret->reveal());
  EXPECT_EQ(mode_of(cfg.data_dir), 0700u);
  EXPECT_EQ(mode_of(cfg.data_dir + "/encryption.key"), 0600u);
  EXPECT_EQ(mode_of(cfg.data_dir + "/session.key"), 0600u);
  EXPECT_EQ(read(cfg.data_dir + "/encryption.key"),
            cfg.encryption_key->reveal() + "\n");
  // A second start reads the same keys back.
  config again;
  again.data_dir = cfg.data_dir;
  auto second = ensure_keys(again);
  ASSERT_TRUE(second) << describe(second.error());
  EXPECT_EQ(second->encryption_key, key_origin::key_file);
  EXPECT_EQ(again.encryption_key->reveal(), cfg.encryption_key->reveal());
  EXPECT_EQ(again.session_secret->reveal(), cfg.session_secret->reveal());
}

TEST_F(key_files, configured_keys_are_used_and_never_written) {
  cfg.encryption_key = secret{std::string(64, 'a')};
  cfg.session_secret = secret{std::string(64, 'b')};
  auto keys = ensure_keys(cfg);
  ASSERT_TRUE(keys) << describe(keys.error());
  EXPECT_EQ(keys->encryption_key, key_origin::configured);
  EXPECT_EQ(access((cfg.data_dir + "/encryption.key").c_str(), F_OK), -1);
  EXPECT_EQ(access((cfg.data_dir + "/session.key").c_str(), F_OK), -1);
}

TEST_F(key_files, malformed_key_file_is_an_error_and_left_alone) {
  ASSERT_TRUE(ensure_keys(cfg));
  auto path = cfg.data_dir + "/encryption.key";
  {
    std::ofstream out{path, std::ios::trunc};
    out << "garbage\n";
  }
  config again;
  again.data_dir = cfg.data_dir;
  auto keys = ensure_keys(again);
  ASSERT_FALSE(keys);
  EXPECT_EQ(keys.error(), ec::invalid_configuration);
  EXPECT_NE(describe(keys.error()).find("encryption.key"), std::string::npos);
  EXPECT_EQ(read(path), "garbage\n"); // never silently replaced
}

TEST_F(key_files, loose_permissions_are_tightened_with_a_warning) {
  ASSERT_TRUE(ensure_keys(cfg));
  auto path = cfg.data_dir + "/session.key";
  ASSERT_EQ(::chmod(path.c_str(), 0644), 0);
  config again;
  again.data_dir = cfg.data_dir;
  auto keys = ensure_keys(again);
  ASSERT_TRUE(keys) << describe(keys.error());
  EXPECT_EQ(mode_of(path), 0600u);
  ASSERT_EQ(keys->warnings.size(), 1u);
  EXPECT_NE(keys->warnings[0].find("session.key"), std::string::npos);
}

TEST_F(key_files, data_dir_that_is_a_file_is_an_error) {
  auto file = root + "/plainfile";
  {
    std::ofstream out{file};
    out << "x";
  }
  cfg.data_dir = file;
  auto keys = ensure_keys(cfg);
  ASSERT_FALSE(keys);
  EXPECT_EQ(keys.error(), ec::filesystem_failure);
}
