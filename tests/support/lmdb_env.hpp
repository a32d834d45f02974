// SPDX-License-Identifier: Apache-2.0
#pragma once

// An LMDB environment of its own for one test, in a temporary directory
// removed when the test is done. A fixture derives from it, listing it
// first, so that the environment outlives the actors of a
// test_coordinator_fixture (also a base) that hold it; tests keep using
// `env` and `dir`.

#include "postern/error.hpp"
#include "postern/storage/environment.hpp"
#include "support/temp_dir.hpp"

#include <cstddef>
#include <memory>
#include <stdexcept>
#include <string>

namespace postern::test {

struct lmdb_env {
  /// Opens an environment in /tmp/<prefix>-XXXXXX; throws when it cannot
  /// (the test fails, with LMDB's reason).
  explicit lmdb_env(const std::string& prefix = "postern-lmdb",
                    size_t initial_map_size
                    = storage::environment::options{}.initial_map_size)
    : tmp(prefix), dir(tmp.path()) {
    options.dir = dir;
    options.initial_map_size = initial_map_size;
    reopen();
  }

  lmdb_env(const lmdb_env&) = delete;
  lmdb_env& operator=(const lmdb_env&) = delete;

  /// Closes the environment (if open) and opens it again with `options`:
  /// what the next start of the server would find.
  void reopen() {
    env.reset();
    auto opened = storage::environment::open(options);
    if (!opened)
      throw std::runtime_error("cannot open LMDB in " + dir + ": "
                               + describe(opened.error()));
    env = std::move(*opened);
  }

  temp_dir tmp;
  /// The directory holding data.mdb; free for the test's other files.
  const std::string dir;
  /// What `env` was opened with.
  storage::environment::options options;
  /// Declared after `tmp`: closed before the directory is removed.
  std::shared_ptr<storage::environment> env;
};

} // namespace postern::test
