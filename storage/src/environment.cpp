// SPDX-License-Identifier: Apache-2.0
#include "postern/storage/environment.hpp"

#include "postern/error.hpp"
#include "postern/log.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <mutex>

namespace postern::storage {

namespace {

MDB_val to_val(std::string_view s) {
  return MDB_val{s.size(), const_cast<char*>(s.data())};
}

std::string_view from_val(const MDB_val& v) {
  return {static_cast<const char*>(v.mv_data), v.mv_size};
}

void check(int rc, const char* what) {
  if (rc != 0)
    throw storage_error(rc, what);
}

/// Closes a cursor when the scope ends.
struct cursor_guard {
  MDB_cursor* cursor = nullptr;
  ~cursor_guard() {
    if (cursor)
      mdb_cursor_close(cursor);
  }
};

/// Calls `f` for the entry the cursor is on (when `rc` says there is one)
/// and the ones `step` (MDB_NEXT or MDB_PREV) reaches, while their keys
/// start with `prefix` and `f` returns true.
void visit_prefix(
  MDB_cursor* cursor, int rc, MDB_val& k, MDB_val& v, std::string_view prefix,
  const std::function<bool(std::string_view, std::string_view)>& f,
  MDB_cursor_op step) {
  while (rc == 0) {
    auto key = from_val(k);
    if (key.substr(0, prefix.size()) != prefix)
      return;
    if (!f(key, from_val(v)))
      return;
    rc = mdb_cursor_get(cursor, &k, &v, step);
  }
  if (rc != MDB_NOTFOUND)
    check(rc, "scan");
}

constexpr std::string_view schema_key = "schema_version";

} // namespace

const char* name_of(table t) {
  switch (t) {
    case table::meta:
      return "meta";
    case table::users:
      return "users";
    case table::users_by_name:
      return "users_by_name";
    case table::web_sessions:
      return "web_sessions";
    case table::accounts:
      return "accounts";
    case table::credentials:
      return "credentials";
    case table::invites:
      return "invites";
    case table::clients:
      return "clients";
    case table::auth_codes:
      return "auth_codes";
    case table::grants:
      return "grants";
    case table::access_tokens:
      return "access_tokens";
    case table::refresh_tokens:
      return "refresh_tokens";
    case table::audit:
      return "audit";
    case table::outbox:
      return "outbox";
    case table::outbox_mail:
      return "outbox_mail";
  }
  return "invalid";
}

caf::error mdb_error(int rc, std::string_view what) {
  return caf::make_error(ec::storage_failure,
                         std::string{what} + ": " + mdb_strerror(rc));
}

// -- txn ----------------------------------------------------------------------

MDB_dbi txn::dbi(table t) const {
  return env_.dbis_[static_cast<size_t>(t)];
}

void txn::require_writable() const {
  if (!writable_)
    throw storage_error(EACCES, "write in a read-only transaction");
}

std::optional<std::string_view> txn::get(table t, std::string_view key) const {
  auto k = to_val(key);
  MDB_val v{};
  auto rc = mdb_get(handle_, dbi(t), &k, &v);
  if (rc == MDB_NOTFOUND)
    return std::nullopt;
  check(rc, "read");
  return from_val(v);
}

void txn::scan(
  table t, std::string_view prefix,
  const std::function<bool(std::string_view, std::string_view)>& f) const {
  cursor_guard guard;
  check(mdb_cursor_open(handle_, dbi(t), &guard.cursor), "open cursor");
  auto k = to_val(prefix);
  MDB_val v{};
  auto rc = mdb_cursor_get(guard.cursor, &k, &v,
                           prefix.empty() ? MDB_FIRST : MDB_SET_RANGE);
  visit_prefix(guard.cursor, rc, k, v, prefix, f, MDB_NEXT);
}

void txn::scan_reverse(
  table t, std::string_view prefix,
  const std::function<bool(std::string_view, std::string_view)>& f) const {
  cursor_guard guard;
  check(mdb_cursor_open(handle_, dbi(t), &guard.cursor), "open cursor");
  // Position on the first key after the prefix range, then step back.
  std::string upper{prefix};
  while (!upper.empty() && static_cast<uint8_t>(upper.back()) == 0xFF)
    upper.pop_back();
  MDB_val k{};
  MDB_val v{};
  int rc;
  if (upper.empty()) {
    rc = mdb_cursor_get(guard.cursor, &k, &v, MDB_LAST);
  } else {
    upper.back() = static_cast<char>(static_cast<uint8_t>(upper.back()) + 1);
    k = to_val(upper);
    rc = mdb_cursor_get(guard.cursor, &k, &v, MDB_SET_RANGE);
    rc = rc == 0 ? mdb_cursor_get(guard.cursor, &k, &v, MDB_PREV)
                 : mdb_cursor_get(guard.cursor, &k, &v, MDB_LAST);
  }
  visit_prefix(guard.cursor, rc, k, v, prefix, f, MDB_PREV);
}

size_t txn::count(table t) const {
  MDB_stat st{};
  check(mdb_stat(handle_, dbi(t), &st), "stat");
  return st.ms_entries;
}

void txn::put(table t, std::string_view key, std::string_view value) {
  require_writable();
  auto k = to_val(key);
  auto v = to_val(value);
  check(mdb_put(handle_, dbi(t), &k, &v, 0), "write");
}

bool txn::insert(table t, std::string_view key, std::string_view value) {
  require_writable();
  auto k = to_val(key);
  auto v = to_val(value);
  auto rc = mdb_put(handle_, dbi(t), &k, &v, MDB_NOOVERWRITE);
  if (rc == MDB_KEYEXIST)
    return false;
  check(rc, "write");
  return true;
}

bool txn::erase(table t, std::string_view key) {
  require_writable();
  auto k = to_val(key);
  auto rc = mdb_del(handle_, dbi(t), &k, nullptr);
  if (rc == MDB_NOTFOUND)
    return false;
  check(rc, "delete");
  return true;
}

size_t txn::erase_prefix(table t, std::string_view prefix) {
  require_writable();
  cursor_guard guard;
  check(mdb_cursor_open(handle_, dbi(t), &guard.cursor), "open cursor");
  auto k = to_val(prefix);
  MDB_val v{};
  size_t erased = 0;
  auto rc = mdb_cursor_get(guard.cursor, &k, &v,
                           prefix.empty() ? MDB_FIRST : MDB_SET_RANGE);
  while (rc == 0 && from_val(k).substr(0, prefix.size()) == prefix) {
    check(mdb_cursor_del(guard.cursor, 0), "delete");
    ++erased;
    // After a delete the cursor already points at the next entry.
    rc = mdb_cursor_get(guard.cursor, &k, &v, MDB_GET_CURRENT);
  }
  if (rc != 0 && rc != MDB_NOTFOUND && rc != EINVAL)
    check(rc, "delete range");
  return erased;
}

// -- environment --------------------------------------------------------------

environment::environment(options opts) : opts_(std::move(opts)) {
  // nop
}

environment::~environment() {
  if (env_)
    mdb_env_close(env_);
}

caf::expected<std::shared_ptr<environment>>
environment::open(const options& opts) {
  std::shared_ptr<environment> env{new environment(opts)};
  auto rc = mdb_env_create(&env->env_);
  if (rc != 0)
    return mdb_error(rc, "create environment");
  mdb_env_set_maxdbs(env->env_, 32);
  mdb_env_set_maxreaders(env->env_, 512);
  // A bigger map left by an earlier run wins over our initial size: LMDB
  // keeps the larger of the file's size and this value.
  mdb_env_set_mapsize(env->env_, opts.initial_map_size);
  // MDB_NOTLS: event-based actors hop threads between messages, so read
  // transactions must not be tied to a thread.
  rc = mdb_env_open(env->env_, opts.dir.c_str(), MDB_NOTLS, 0600);
  if (rc != 0)
    return mdb_error(rc, "open database in " + opts.dir);
  if (auto err = env->open_tables())
    return err;
  if (auto err = env->migrate())
    return err;
  return env;
}

caf::error environment::open_tables() {
  // All DBIs are opened once, before any other transaction (lmdb.h: DBI
  // opening must not race with other transactions).
  MDB_txn* h = nullptr;
  auto rc = mdb_txn_begin(env_, nullptr, 0, &h);
  if (rc == MDB_MAP_RESIZED) {
    mdb_env_set_mapsize(env_, 0);
    rc = mdb_txn_begin(env_, nullptr, 0, &h);
  }
  if (rc != 0)
    return mdb_error(rc, "begin transaction");
  for (size_t i = 0; i < table_count; ++i) {
    rc = mdb_dbi_open(h, name_of(static_cast<table>(i)), MDB_CREATE, &dbis_[i]);
    if (rc != 0) {
      mdb_txn_abort(h);
      return mdb_error(rc, std::string{"open table "}
                             + name_of(static_cast<table>(i)));
    }
  }
  rc = mdb_txn_commit(h);
  if (rc != 0)
    return mdb_error(rc, "commit");
  return caf::none;
}

caf::error environment::migrate() {
  return write([](txn& t) -> caf::error {
    auto stored = t.get(table::meta, schema_key);
    uint32_t version = 0;
    if (stored) {
      version = static_cast<uint32_t>(std::stoul(std::string{*stored}));
      if (version > schema_version)
        return caf::make_error(
          ec::storage_failure,
          "this DATA_DIR was written by a newer Postern (schema "
            + std::to_string(version) + "); this binary understands up to "
            + std::to_string(schema_version));
    }
    // Migrations run in order inside this one transaction: a crash leaves
    // the old schema intact. Version 1 is the initial layout, so there is
    // nothing to convert yet; the next version adds a case here.
    if (version != schema_version)
      t.put(table::meta, schema_key, std::to_string(schema_version));
    return caf::none;
  });
}

size_t environment::map_size() const {
  MDB_envinfo info{};
  mdb_env_info(env_, &info);
  return info.me_mapsize;
}

caf::error environment::grow(size_t at_least) {
  std::unique_lock<std::shared_mutex> lock{resize_mtx_};
  auto current = map_size();
  if (current > at_least)
    return caf::none; // another thread grew it meanwhile
  if (current >= opts_.max_map_size)
    return caf::make_error(ec::storage_failure,
                           "the database reached its maximum size of "
                             + std::to_string(opts_.max_map_size) + " bytes");
  auto next = std::min(current * 2, opts_.max_map_size);
  auto rc = mdb_env_set_mapsize(env_, next);
  if (rc != 0)
    return mdb_error(rc, "grow database map");
  POSTERN_INFO("storage: database map grown from {} to {} MiB", current >> 20,
               next >> 20);
  return caf::none;
}

caf::error environment::adopt_external_resize() {
  // Another process (e.g. `postern admin`) grew the map.
  std::unique_lock<std::shared_mutex> lock{resize_mtx_};
  auto rc = mdb_env_set_mapsize(env_, 0);
  if (rc != 0)
    return mdb_error(rc, "adopt the new database size");
  return caf::none;
}

template <class F>
caf::error environment::run(bool writable, F&& f) const {
  auto self = const_cast<environment*>(this);
  for (int attempt = 0; attempt < 40; ++attempt) {
    std::shared_lock<std::shared_mutex> lock{resize_mtx_};
    MDB_txn* h = nullptr;
    auto rc = mdb_txn_begin(env_, nullptr, writable ? 0 : MDB_RDONLY, &h);
    if (rc == MDB_MAP_RESIZED) {
      lock.unlock();
      if (auto err = self->adopt_external_resize())
        return err;
      continue;
    }
    if (rc != 0)
      return mdb_error(rc, "begin transaction");
    txn t{*self, h, writable};
    caf::error err;
    int failed_rc = 0;
    std::string failed_what;
    try {
      err = f(t);
    } catch (const storage_error& e) {
      failed_rc = e.rc();
      failed_what = e.what();
    } catch (const std::exception& e) {
      failed_rc = MDB_PANIC;
      failed_what = e.what();
    }
    if (failed_rc != 0 || err || !writable) {
      mdb_txn_abort(h);
      if (failed_rc == 0)
        return err;
      if (failed_rc == MDB_MAP_FULL && writable) {
        auto size = map_size();
        lock.unlock();
        if (auto gerr = self->grow(size))
          return gerr;
        continue;
      }
      return caf::make_error(ec::storage_failure,
                             failed_what + ": "
                               + (failed_rc == MDB_PANIC
                                    ? std::string{"internal error"}
                                    : std::string{mdb_strerror(failed_rc)}));
    }
    rc = mdb_txn_commit(h);
    if (rc == MDB_MAP_FULL) {
      auto size = map_size();
      lock.unlock();
      if (auto gerr = self->grow(size))
        return gerr;
      continue;
    }
    if (rc != 0)
      return mdb_error(rc, "commit");
    return caf::none;
  }
  return caf::make_error(ec::storage_failure,
                         "the database could not make room for a write");
}

caf::error environment::write(const std::function<caf::error(txn&)>& f) {
  return run(true, f);
}

caf::error
environment::read(const std::function<caf::error(const txn&)>& f) const {
  return run(false, [&](txn& t) { return f(t); });
}

caf::error environment::backup(const std::string& path) const {
  auto fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0)
    return caf::make_error(ec::filesystem_failure, "cannot create " + path
                                                     + ": "
                                                     + std::strerror(errno));
  int rc = 0;
  {
    // mdb_env_copyfd2 reads through its own read transaction.
    std::shared_lock<std::shared_mutex> lock{resize_mtx_};
    rc = mdb_env_copyfd2(env_, fd, MDB_CP_COMPACT);
  }
  if (rc == 0 && ::fsync(fd) != 0)
    rc = errno;
  ::close(fd);
  if (rc != 0) {
    ::unlink(path.c_str());
    return mdb_error(rc, "back up to " + path);
  }
  return caf::none;
}

} // namespace postern::storage
