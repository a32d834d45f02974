// SPDX-License-Identifier: Apache-2.0
#include "net.hpp"

#include "postern/error.hpp"
#include "postern/mime/charset.hpp"

#include <arpa/inet.h>
#include <libetpan/libetpan.h>
#include <netinet/in.h>
#include <sys/select.h>
#include <sys/socket.h>

#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <condition_variable>
#include <csignal>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

// Exported by libetpan but missing from its installed headers.
extern "C" int mailstream_cancel_get_fd(struct mailstream_cancel* cancel);

namespace postern::imap {

namespace {

struct addrinfo_deleter {
  void operator()(addrinfo* x) const noexcept {
    freeaddrinfo(x);
  }
};

// Moves `fd` below FD_SETSIZE (see select_safe); -1 if impossible.
int lower_fd(int fd) {
  if (fd < FD_SETSIZE)
    return fd;
  auto low = fcntl(fd, F_DUPFD_CLOEXEC, 0);
  ::close(fd);
  if (low >= FD_SETSIZE) {
    ::close(low);
    return -1;
  }
  return low;
}

bool set_blocking(int fd, bool blocking) {
  auto flags = fcntl(fd, F_GETFL, 0);
  if (flags < 0)
    return false;
  flags = blocking ? flags & ~O_NONBLOCK : flags | O_NONBLOCK;
  return fcntl(fd, F_SETFL, flags) == 0;
}

std::string errno_text(int code) {
  std::array<char, 256> buf{};
  // GNU strerror_r returns the message (maybe not in buf).
  return strerror_r(code, buf.data(), buf.size());
}

// One thread for all deadlines of the process: sleeps until the earliest
// one and expires the connections that passed theirs.
class watchdog {
public:
  static watchdog& instance() {
    // Never destroyed: connections may outlive static destruction order.
    static auto* self = new watchdog;
    return *self;
  }

  uint64_t watch(std::weak_ptr<canceller> c,
                 std::chrono::steady_clock::time_point deadline) {
    std::lock_guard<std::mutex> guard{mtx_};
    if (!started_) {
      std::thread{[this] { run(); }}.detach();
      started_ = true;
    }
    auto id = ++next_id_;
    entries_.emplace(id, entry{std::move(c), deadline});
    cv_.notify_one();
    return id;
  }

  void unwatch(uint64_t id) {
    std::lock_guard<std::mutex> guard{mtx_};
    entries_.erase(id);
  }

private:
  struct entry {
    std::weak_ptr<canceller> target;
    std::chrono::steady_clock::time_point deadline;
  };

  void run() {
    std::unique_lock<std::mutex> lock{mtx_};
    for (;;) {
      auto now = std::chrono::steady_clock::now();
      auto next = now + std::chrono::hours{1};
      std::vector<std::shared_ptr<canceller>> due;
      for (auto i = entries_.begin(); i != entries_.end();) {
        if (i->second.deadline <= now) {
          if (auto c = i->second.target.lock())
            due.push_back(std::move(c));
          i = entries_.erase(i);
        } else {
          next = std::min(next, i->second.deadline);
          ++i;
        }
      }
      if (!due.empty()) {
        lock.unlock();
        for (auto& c : due)
          c->expire();
        due.clear();
        lock.lock();
        continue;
      }
      cv_.wait_until(lock, next);
    }
  }

  std::mutex mtx_;
  std::condition_variable cv_;
  std::map<uint64_t, entry> entries_;
  uint64_t next_id_ = 0;
  bool started_ = false;
};

} // namespace

deadline_guard::deadline_guard(const std::shared_ptr<canceller>& c,
                               std::chrono::seconds limit) {
  if (c->armed)
    return;
  c_ = c;
  c_->armed = true;
  id_ = watchdog::instance().watch(c_,
                                   std::chrono::steady_clock::now() + limit);
}

deadline_guard::~deadline_guard() {
  if (!c_)
    return;
  watchdog::instance().unwatch(id_);
  c_->armed = false;
}

namespace {

/// The numeric text of a resolved address ("192.0.2.1", "2001:db8::1").
std::string address_text(const addrinfo* ai) {
  char text[INET6_ADDRSTRLEN] = {0};
  const void* addr = nullptr;
  if (ai->ai_family == AF_INET)
    addr = &reinterpret_cast<const sockaddr_in*>(ai->ai_addr)->sin_addr;
  else if (ai->ai_family == AF_INET6)
    addr = &reinterpret_cast<const sockaddr_in6*>(ai->ai_addr)->sin6_addr;
  if (addr == nullptr
      || inet_ntop(ai->ai_family, addr, text, sizeof(text)) == nullptr)
    return {};
  return text;
}

using clock = std::chrono::steady_clock;
using addrinfo_ptr = std::unique_ptr<addrinfo, addrinfo_deleter>;

/// Looks `host` up once (every later check and connect uses these
/// addresses, see tcp_connect).
caf::expected<addrinfo_ptr> resolve(const std::string& host, uint16_t port,
                                    std::string_view protocol) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_protocol = IPPROTO_TCP;
  addrinfo* raw = nullptr;
  // getaddrinfo has no timeout of its own; the resolver's (a few seconds
  // per attempt) bounds it.
  auto gai = getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints,
                         &raw);
  addrinfo_ptr addrs{raw};
  if (gai == 0)
    return addrs;
  if (gai == EAI_NONAME || gai == EAI_NODATA || gai == EAI_FAIL)
    return caf::make_error(ec::connection_failed,
                           "The " + std::string{protocol} + " server host \""
                             + mime::to_valid_utf8(host)
                             + "\" was not found (check the name)");
  return caf::make_error(ec::connection_failed,
                         "Could not look up the " + std::string{protocol}
                           + " server host \"" + mime::to_valid_utf8(host)
                           + "\": " + gai_strerror(gai));
}

/// What the connection attempts ran into, for the error when none worked.
struct connect_attempts {
  int last_error = 0;
  bool timed_out = false;
  std::string denied; // the first resolved address the policy refused
  bool tried = false;
};

/// Waits for a non-blocking connect on `fd` to finish before `deadline`;
/// false if it failed (noted in `attempts`), ran out of time or was
/// cancelled.
bool wait_connected(int fd, clock::time_point deadline, canceller& cancel,
                    connect_attempts& attempts) {
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - clock::now());
    if (left.count() <= 0) {
      attempts.timed_out = true;
      return false;
    }
    // Short slices so that cancel() is noticed soon.
    pollfd pfd{fd, POLLOUT, 0};
    auto n = ::poll(&pfd, 1,
                    static_cast<int>(std::min<int64_t>(left.count(), 200)));
    if (cancel.cancelled() || cancel.expired())
      return false;
    if (n < 0 && errno != EINTR)
      return false;
    if (n > 0) {
      int so_error = 0;
      socklen_t len = sizeof(so_error);
      getsockopt(fd, SOL_SOCKET, SO_ERROR, &so_error, &len);
      if (so_error == 0)
        return true;
      attempts.last_error = so_error;
      return false;
    }
  }
}

/// The error when no address of `host` could be connected to.
caf::error no_connection(const connect_attempts& attempts,
                         const std::string& host, const std::string& where,
                         std::chrono::seconds timeout) {
  if (!attempts.tried && !attempts.denied.empty())
    return caf::make_error(ec::forbidden,
                           "this server does not allow mail servers on "
                           "private or internal addresses ("
                             + mime::to_valid_utf8(host) + " resolves to "
                             + attempts.denied + ")");
  if (attempts.timed_out)
    return caf::make_error(ec::timed_out,
                           "The " + where + " did not answer within "
                             + std::to_string(timeout.count()) + " seconds");
  if (attempts.last_error == ECONNREFUSED)
    return caf::make_error(ec::connection_failed,
                           "The " + where
                             + " refused the connection (check the host "
                               "name and port)");
  if (attempts.last_error == EMFILE || attempts.last_error == ENFILE)
    return too_many_files();
  return caf::make_error(ec::connection_failed,
                         "The " + where + " cannot be reached: "
                           + errno_text(attempts.last_error));
}

} // namespace

caf::expected<int> tcp_connect(const std::string& host, uint16_t port,
                               std::chrono::seconds timeout, canceller& cancel,
                               std::string_view protocol,
                               const host_policy& hosts) {
  auto where = std::string{protocol} + " server " + host + ":"
               + std::to_string(port);
  auto cancelled = [&] {
    if (cancel.expired())
      return caf::make_error(ec::timed_out,
                             "Connecting to the " + where + " took too long");
    return caf::make_error(ec::cancelled,
                           "Connecting to the " + where
                             + " was cancelled because Postern is shutting "
                               "down");
  };
  if (host.empty())
    return caf::make_error(ec::connection_failed,
                           "No " + std::string{protocol}
                             + " server host name is configured");
  if (auto err = hosts.check_host(host))
    return err;
  auto deadline = clock::now() + timeout;
  auto addrs = resolve(host, port, protocol);
  if (!addrs)
    return std::move(addrs.error());
  connect_attempts attempts;
  for (auto* ai = addrs->get(); ai != nullptr; ai = ai->ai_next) {
    if (cancel.cancelled() || cancel.expired())
      return cancelled();
    if (!hosts.allows_everything()) {
      auto text = address_text(ai);
      if (text.empty() || !hosts.allows_address(text)) {
        if (attempts.denied.empty())
          attempts.denied = text.empty() ? std::string{"an unknown address"}
                                         : text;
        continue;
      }
    }
    attempts.tried = true;
    auto fd = lower_fd(
      ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol));
    if (fd < 0) {
      attempts.last_error = errno != 0 ? errno : EMFILE;
      continue;
    }
    set_blocking(fd, false);
    cancel.attach(fd, nullptr);
    auto rc = ::connect(fd, ai->ai_addr, ai->ai_addrlen);
    if (rc != 0 && errno != EINPROGRESS) {
      attempts.last_error = errno;
      cancel.detach();
      ::close(fd);
      continue;
    }
    bool connected = rc == 0 || wait_connected(fd, deadline, cancel, attempts);
    cancel.detach();
    if (!connected) {
      ::close(fd);
      if (cancel.cancelled() || cancel.expired())
        return cancelled();
      if (attempts.timed_out)
        break;
      continue;
    }
    set_blocking(fd, true);
    // Notice a dead peer of an idle pooled connection eventually.
    int on = 1;
    setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof(on));
    return fd;
  }
  return no_connection(attempts, host, where, timeout);
}

bool select_safe(_mailstream* stream) {
  auto* low = mailstream_get_low(stream);
  if (low == nullptr)
    return false;
  if (mailstream_low_get_fd(low) >= FD_SETSIZE)
    return false;
  auto* cancel = mailstream_low_get_cancel(low);
  return cancel == nullptr || mailstream_cancel_get_fd(cancel) < FD_SETSIZE;
}

caf::error too_many_files() {
  return caf::make_error(ec::connection_failed,
                         "Postern has too many open connections to open "
                         "another mail connection now; try again shortly");
}

void ignore_sigpipe() {
  static std::once_flag flag;
  std::call_once(flag, [] { std::signal(SIGPIPE, SIG_IGN); });
}

bool is_ip_literal(const std::string& host) {
  in6_addr buf{};
  auto bare = host;
  if (bare.size() > 2 && bare.front() == '[' && bare.back() == ']')
    bare = bare.substr(1, bare.size() - 2);
  return inet_pton(AF_INET, bare.c_str(), &buf) == 1
         || inet_pton(AF_INET6, bare.c_str(), &buf) == 1;
}

std::string sanitize_server_text(std::string_view text) {
  auto result = mime::to_valid_utf8(text);
  for (auto& c : result)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F)
      c = ' ';
  while (!result.empty() && result.back() == ' ')
    result.pop_back();
  if (result.size() > 300)
    result = std::string{mime::truncate_utf8(result, 300)} + "...";
  return result;
}

std::string redact(std::string text, const std::string& secret_text) {
  if (secret_text.size() < 4)
    return text;
  size_t pos = 0;
  while ((pos = text.find(secret_text, pos)) != std::string::npos) {
    text.replace(pos, secret_text.size(), "[redacted]");
    pos += 10;
  }
  return text;
}

} // namespace postern::imap
