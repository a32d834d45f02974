// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <caf/error.hpp>
#include <caf/expected.hpp>

#include <lmdb.h>

#include <functional>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <stdexcept>
#include <string>
#include <string_view>

namespace postern::storage {

/// The named databases of the one LMDB environment. Keys are fixed-width
/// ids or hashes; values are versioned binary records (see record.hpp).
enum class table : uint8_t {
  meta,           // schema version, vault check record
  users,          // user id -> user record
  users_by_name,  // lower-cased username -> user id
  web_sessions,   // SHA-256(session id) -> session record
  accounts,       // user id + '/' + account id -> account settings
  credentials,    // account id -> sealed IMAP/SMTP passwords
  invites,        // SHA-256(invite code) -> invite record
  clients,        // OAuth client id -> client record
  auth_codes,     // SHA-256(code) -> authorization code record
  grants,         // user id + '/' + grant id -> grant record
  access_tokens,  // SHA-256(token) -> access token record
  refresh_tokens, // SHA-256(token) -> refresh token record
  audit,          // big-endian ms timestamp + sequence -> audit event
  outbox,         // user id + '/' + outbox id -> held message's entry
  outbox_mail,    // user id + '/' + outbox id -> its bytes and envelope
};

/// Number of tables; keep in sync with the enum.
inline constexpr size_t table_count = static_cast<size_t>(table::outbox_mail) + 1;

/// The LMDB name of a table.
const char* name_of(table t);

/// Thrown inside a transaction function when LMDB fails; `environment`
/// catches it at the transaction boundary, aborts, and returns it as a
/// caf::error. Unwinding to the boundary is exactly "abort the whole logical
/// operation", and nothing escapes the storage layer.
class storage_error : public std::runtime_error {
public:
  storage_error(int rc, const std::string& what)
    : std::runtime_error(what), rc_(rc) {
    // nop
  }

  int rc() const noexcept {
    return rc_;
  }

private:
  int rc_;
};

class environment;

/// A transaction: read-only or read-write. Lives inside one call of
/// `environment::read`/`write`, on one thread, and never in actor state.
class txn {
public:
  txn(const txn&) = delete;
  txn& operator=(const txn&) = delete;

  /// The value of `key`, or nullopt. The view stays valid until the
  /// transaction ends (or the key is written in this transaction).
  std::optional<std::string_view> get(table t, std::string_view key) const;

  /// Calls `f(key, value)` for every key starting with `prefix`, in key
  /// order, until `f` returns false.
  void
  scan(table t, std::string_view prefix,
       const std::function<bool(std::string_view, std::string_view)>& f) const;

  /// Like scan, but from the last matching key backwards.
  void scan_reverse(
    table t, std::string_view prefix,
    const std::function<bool(std::string_view, std::string_view)>& f) const;

  /// Counts the entries of a table.
  size_t count(table t) const;

  // -- writing (write transactions only) --------------------------------------

  /// Inserts or replaces.
  void put(table t, std::string_view key, std::string_view value);

  /// Inserts unless the key exists; returns false if it did.
  bool insert(table t, std::string_view key, std::string_view value);

  /// Removes a key; returns false if it was absent.
  bool erase(table t, std::string_view key);

  /// Removes every key starting with `prefix`; returns how many.
  size_t erase_prefix(table t, std::string_view prefix);

  bool writable() const noexcept {
    return writable_;
  }

private:
  friend class environment;

  txn(environment& env, MDB_txn* handle, bool writable)
    : env_(env), handle_(handle), writable_(writable) {
    // nop
  }

  MDB_dbi dbi(table t) const;
  void require_writable() const;

  environment& env_;
  MDB_txn* handle_;
  bool writable_;
};

/// The one LMDB environment of the process (lmdb.h forbids opening it twice
/// in one process). Thread-safe: transactions begin and end inside one call,
/// so actors may use it from any scheduler thread (MDB_NOTLS). Several
/// processes (the server and `postern admin`) may use the same directory.
class environment {
public:
  struct options {
    /// Directory holding data.mdb and lock.mdb.
    std::string dir;
    /// Map size to start with; it doubles whenever a write fills it.
    size_t initial_map_size = size_t{64} << 20;
    /// Upper bound for growth.
    size_t max_map_size = size_t{1} << 40;
  };

  /// Opens (creating if needed) the environment and all tables, and brings
  /// the schema up to date. Fails if the data is from a newer Postern.
  static caf::expected<std::shared_ptr<environment>> open(const options& opts);

  ~environment();
  environment(const environment&) = delete;
  environment& operator=(const environment&) = delete;

  /// Runs `f` in one write transaction and commits if it returns no error;
  /// aborts otherwise. When the map is full, grows it and runs `f` again, so
  /// `f` must only depend on its inputs and the transaction.
  caf::error write(const std::function<caf::error(txn&)>& f);

  /// Runs `f` on a consistent read-only snapshot.
  caf::error read(const std::function<caf::error(const txn&)>& f) const;

  /// Writes a consistent, compacted copy to `path` (a new file, mode 0600)
  /// while others keep reading and writing.
  caf::error backup(const std::string& path) const;

  /// The current map size in bytes.
  size_t map_size() const;

  /// The schema version this binary writes.
  static constexpr uint32_t schema_version = 1;

private:
  explicit environment(options opts);

  caf::error open_tables();
  caf::error migrate();
  caf::error grow(size_t at_least);
  caf::error adopt_external_resize();

  template <class F>
  caf::error run(bool writable, F&& f) const;

  friend class txn;

  options opts_;
  MDB_env* env_ = nullptr;
  MDB_dbi dbis_[table_count] = {};
  /// Readers and writers hold it shared; growing the map (which LMDB allows
  /// only while this process has no transaction open) holds it exclusively.
  mutable std::shared_mutex resize_mtx_;
};

/// Maps an LMDB return code to a storage_failure error with context.
caf::error mdb_error(int rc, std::string_view what);

} // namespace postern::storage
