// SPDX-License-Identifier: Apache-2.0
#pragma once

// A scripted TCP server on 127.0.0.1 for faults a real mail server will not
// produce on demand: resets, stalls, garbage. It runs in a thread of the
// test; the script gets one accepted connection at a time.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <poll.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

namespace postern::test {

/// One accepted connection, as the script sees it.
class fake_connection {
public:
  fake_connection(int fd, const std::atomic<bool>& stop)
    : fd_(fd), stop_(stop) {
    // nop
  }

  /// Sends bytes; false if the peer is gone.
  bool send(std::string_view data) {
    while (!data.empty()) {
      auto n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0)
        return false;
      data.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }

  /// Reads one line (without CRLF); nullopt on EOF, timeout or shutdown.
  std::optional<std::string>
  read_line(std::chrono::milliseconds timeout = std::chrono::seconds{20}) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      auto eol = buffer_.find('\n');
      if (eol != std::string::npos) {
        auto line = buffer_.substr(0, eol);
        buffer_.erase(0, eol + 1);
        if (!line.empty() && line.back() == '\r')
          line.pop_back();
        return line;
      }
      if (stop_ || std::chrono::steady_clock::now() >= deadline)
        return std::nullopt;
      pollfd pfd{fd_, POLLIN, 0};
      if (::poll(&pfd, 1, 50) <= 0)
        continue;
      char buf[4096];
      auto n = ::recv(fd_, buf, sizeof(buf), 0);
      if (n <= 0)
        return std::nullopt;
      buffer_.append(buf, static_cast<size_t>(n));
      received_ += std::string_view{buf, static_cast<size_t>(n)};
    }
  }

  /// Closes with a TCP reset (SO_LINGER 0) instead of a FIN.
  void reset() {
    linger l{1, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
    ::close(fd_);
    fd_ = -1;
  }

  /// Ends what the server sends (a FIN): the client reads the end of the
  /// stream; what it sends is still read.
  void finish() {
    ::shutdown(fd_, SHUT_WR);
  }

  /// Keeps the connection open and silent until the server stops.
  void stall() {
    while (!stop_) {
      // Drain what the client sends so it never blocks on writing.
      pollfd pfd{fd_, POLLIN, 0};
      if (::poll(&pfd, 1, 20) > 0) {
        char buf[4096];
        if (::recv(fd_, buf, sizeof(buf), 0) <= 0)
          return;
      }
    }
  }

  /// Everything the client sent so far.
  const std::string& received() const {
    return received_;
  }

  ~fake_connection() {
    if (fd_ >= 0)
      ::close(fd_);
  }

  fake_connection(const fake_connection&) = delete;
  fake_connection& operator=(const fake_connection&) = delete;

private:
  int fd_;
  const std::atomic<bool>& stop_;
  std::string buffer_;
  std::string received_;
};

/// Listens on 127.0.0.1 (an ephemeral port) and runs `script` for every
/// connection, one after the other.
class fake_server {
public:
  using script = std::function<void(fake_connection&)>;

  explicit fake_server(script s) : script_(std::move(s)) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int on = 1;
    ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    socklen_t len = sizeof(addr);
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    ::listen(listen_fd_, 8);
    thread_ = std::thread([this] { run(); });
  }

  ~fake_server() {
    stop_ = true;
    thread_.join();
    ::close(listen_fd_);
  }

  fake_server(const fake_server&) = delete;
  fake_server& operator=(const fake_server&) = delete;

  uint16_t port() const noexcept {
    return port_;
  }

  /// Connections accepted so far.
  int connections() const noexcept {
    return accepted_;
  }

  /// What the script stored for the test to check (set from the script).
  std::string note() const {
    std::string copy;
    {
      std::lock_guard<std::mutex> guard{mtx_};
      copy = note_;
    }
    return copy;
  }

  void set_note(std::string text) {
    std::lock_guard<std::mutex> guard{mtx_};
    note_ = std::move(text);
  }

private:
  void run() {
    while (!stop_) {
      pollfd pfd{listen_fd_, POLLIN, 0};
      if (::poll(&pfd, 1, 50) <= 0)
        continue;
      auto fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0)
        continue;
      ++accepted_;
      fake_connection conn{fd, stop_};
      script_(conn);
    }
  }

  script script_;
  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> accepted_{0};
  mutable std::mutex mtx_;
  std::string note_;
  std::thread thread_;
};

} // namespace postern::test
