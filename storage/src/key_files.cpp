// SPDX-License-Identifier: Apache-2.0
#include "postern/storage/key_files.hpp"

#include "postern/error.hpp"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <sys/stat.h>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace postern::storage {

namespace {

caf::error fs_error(const std::string& what, const std::string& path, int err) {
  return caf::make_error(ec::filesystem_failure,
                         what + " " + path + ": " + std::strerror(err));
}

// mkdir -p with mode 0700 for the directories we create.
caf::error make_directories(const std::string& dir) {
  std::string partial;
  size_t pos = 0;
  while (pos != std::string::npos) {
    pos = dir.find('/', pos + 1);
    partial = dir.substr(0, pos);
    if (partial.empty())
      continue;
    if (::mkdir(partial.c_str(), 0700) != 0 && errno != EEXIST)
      return fs_error("cannot create directory", partial, errno);
  }
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0)
    return fs_error("cannot access", dir, errno);
  if (!S_ISDIR(st.st_mode))
    return caf::make_error(ec::filesystem_failure,
                           "DATA_DIR " + dir + " is not a directory");
  return caf::none;
}

// Loads or creates one key; `origin` tells the caller which happened.
caf::error ensure_key(std::optional<secret>& slot, const std::string& path,
                      key_origin& origin, std::vector<std::string>& warnings) {
  if (slot) {
    origin = key_origin::configured;
    return caf::none;
  }
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) {
    if ((st.st_mode & 077) != 0) {
      // Tighten instead of refusing to start: the file is ours.
      if (::chmod(path.c_str(), 0600) != 0)
        return fs_error("cannot restrict permissions of", path, errno);
      warnings.push_back(
        path + " was readable by other users; its mode is now 0600");
    }
    auto key = read_key_file(path);
    if (!key)
      return key.error();
    slot = std::move(*key);
    origin = key_origin::key_file;
    return caf::none;
  }
  if (errno != ENOENT)
    return fs_error("cannot access", path, errno);
  auto key = generate_hex_key();
  if (!key)
    return key.error();
  if (auto err = write_key_file(path, *key))
    return err;
  slot = std::move(*key);
  origin = key_origin::generated;
  return caf::none;
}

} // namespace

caf::expected<secret> generate_hex_key() {
  unsigned char bytes[32];
  if (RAND_bytes(bytes, sizeof(bytes)) != 1)
    return caf::make_error(ec::unspecified,
                           "the system's random generator failed");
  static constexpr char digits[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(64);
  for (auto b : bytes) {
    hex += digits[b >> 4];
    hex += digits[b & 0xF];
  }
  OPENSSL_cleanse(bytes, sizeof(bytes));
  return secret{std::move(hex)};
}

caf::expected<secret> read_key_file(const std::string& path) {
  auto fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return fs_error("cannot open", path, errno);
  std::string text(128, '\0');
  auto n = ::read(fd, text.data(), text.size());
  auto read_errno = errno;
  ::close(fd);
  if (n < 0)
    return fs_error("cannot read", path, read_errno);
  text.resize(static_cast<size_t>(n));
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r'))
    text.pop_back();
  secret result{std::move(text)};
  if (!is_hex_key(result.reveal()))
    return caf::make_error(ec::invalid_configuration,
                           "key file " + path
                             + " does not hold 64 hexadecimal characters; "
                               "restore it from a backup (a new key cannot "
                               "decrypt stored credentials)");
  return result;
}

caf::error write_key_file(const std::string& path, const secret& key) {
  // Write a temporary file, fsync, then link it into place: a crash leaves
  // either no key file or a complete one, never a truncated key.
  auto tmp = path + ".tmp";
  ::unlink(tmp.c_str());
  auto fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0)
    return fs_error("cannot create", tmp, errno);
  auto line = key.reveal() + "\n";
  auto n = ::write(fd, line.data(), line.size());
  auto ok = n == static_cast<ssize_t>(line.size()) && ::fsync(fd) == 0;
  auto write_errno = errno;
  OPENSSL_cleanse(line.data(), line.size());
  ::close(fd);
  if (!ok) {
    ::unlink(tmp.c_str());
    return fs_error("cannot write", tmp, write_errno);
  }
  // link() fails if the target exists, so two processes starting at once
  // cannot overwrite each other's key.
  if (::link(tmp.c_str(), path.c_str()) != 0) {
    auto link_errno = errno;
    ::unlink(tmp.c_str());
    return fs_error("cannot create", path, link_errno);
  }
  ::unlink(tmp.c_str());
  auto dir = path.substr(0, path.rfind('/'));
  if (auto dfd = ::open(dir.empty() ? "/" : dir.c_str(),
                        O_RDONLY | O_DIRECTORY);
      dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return caf::none;
}

caf::expected<key_setup> ensure_keys(config& cfg) {
  key_setup result;
  if (auto err = make_directories(cfg.data_dir))
    return err;
  result.encryption_key_file = cfg.data_dir + "/encryption.key";
  result.session_secret_file = cfg.data_dir + "/session.key";
  if (auto err = ensure_key(cfg.encryption_key, result.encryption_key_file,
                            result.encryption_key, result.warnings))
    return err;
  if (auto err = ensure_key(cfg.session_secret, result.session_secret_file,
                            result.session_secret, result.warnings))
    return err;
  return result;
}

} // namespace postern::storage
