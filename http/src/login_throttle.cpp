// SPDX-License-Identifier: Apache-2.0
#include "postern/http/login_throttle.hpp"

#include "postern/clock.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <cctype>

namespace postern::http {

login_throttle::login_throttle() : login_throttle(options{}) {
  // nop
}

login_throttle::login_throttle(options opts, clock now)
  : opts_(opts), now_(std::move(now)) {
  // nop
}

int64_t login_throttle::now_ms() const {
  if (now_)
    return now_();
  return steady_millis();
}

std::string address_bucket(std::string_view address) {
  in6_addr v6{};
  std::string text{address.substr(0, 64)};
  if (text.find(':') == std::string::npos
      || inet_pton(AF_INET6, text.c_str(), &v6) != 1)
    return text;
  auto b = v6.s6_addr;
  bool mapped = std::all_of(b, b + 10, [](uint8_t x) { return x == 0; })
                && b[10] == 0xFF && b[11] == 0xFF;
  if (mapped)
    return std::to_string(b[12]) + "." + std::to_string(b[13]) + "."
           + std::to_string(b[14]) + "." + std::to_string(b[15]);
  std::fill(b + 8, b + 16, uint8_t{0});
  char out[INET6_ADDRSTRLEN] = {};
  inet_ntop(AF_INET6, &v6, out, sizeof(out));
  return std::string{out} + "/64";
}

std::string login_throttle::address_key(std::string_view address) {
  return "a:" + address_bucket(address);
}

std::string login_throttle::username_key(std::string_view username) {
  std::string key = "u:";
  // Usernames are at most 64 characters; longer input is one bucket per
  // prefix rather than an unbounded key.
  for (char c : username.substr(0, 64))
    key += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return key;
}

std::string login_throttle::device_key(std::string_view device) {
  return "d:" + std::string{device.substr(0, 64)};
}

int64_t login_throttle::wait_ms(const std::string& key, int64_t now) const {
  auto i = entries_.find(key);
  if (i == entries_.end())
    return 0;
  if (now - i->second.last_ms >= opts_.forget_after.count() * 1000)
    return 0;
  return std::max<int64_t>(0, i->second.next_ms - now);
}

void login_throttle::count(const std::string& key, const rule& r, int64_t now) {
  auto& e = entries_[key];
  if (e.attempts > 0 && now - e.last_ms >= opts_.forget_after.count() * 1000)
    e = entry{};
  ++e.attempts;
  e.last_ms = now;
  if (e.attempts < r.free) {
    e.next_ms = now;
    return;
  }
  // attempts == free waits base, then 2x, 4x, ... up to the cap.
  auto doublings = std::min<unsigned>(e.attempts - r.free, 30);
  auto delay = std::min<int64_t>(
    r.base.count() * 1000 * (int64_t{1} << doublings), r.cap.count() * 1000);
  e.next_ms = now + delay;
}

void login_throttle::prune(int64_t now) {
  if (entries_.size() < opts_.max_keys)
    return;
  auto forget = opts_.forget_after.count() * 1000;
  for (auto i = entries_.begin(); i != entries_.end();)
    i = now - i->second.last_ms >= forget ? entries_.erase(i) : std::next(i);
  while (entries_.size() >= opts_.max_keys) {
    auto oldest = std::min_element(entries_.begin(), entries_.end(),
                                   [](const auto& x, const auto& y) {
                                     return x.second.last_ms < y.second.last_ms;
                                   });
    entries_.erase(oldest);
  }
}

int64_t login_throttle::begin(std::string_view address,
                              std::string_view username,
                              std::string_view device) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto now = now_ms();
  auto akey = address_key(address);
  auto ukey = device.empty() ? username_key(username) : device_key(device);
  auto wait = wait_ms(akey, now);
  if (!username.empty())
    wait = std::max(wait, wait_ms(ukey, now));
  if (wait > 0)
    return (wait + 999) / 1000;
  prune(now);
  count(akey, opts_.per_address, now);
  if (!username.empty())
    count(ukey, opts_.per_username, now);
  return 0;
}

void login_throttle::finish(std::string_view address, std::string_view username,
                            bool success, std::string_view device) {
  if (!success)
    return;
  std::lock_guard<std::mutex> guard{mtx_};
  if (!username.empty())
    entries_.erase(username_key(username));
  if (!device.empty())
    entries_.erase(device_key(device));
  auto i = entries_.find(address_key(address));
  if (i == entries_.end())
    return;
  // Refund the attempt; the address keeps its other failures.
  if (i->second.attempts <= 1) {
    entries_.erase(i);
    return;
  }
  --i->second.attempts;
  if (i->second.attempts < opts_.per_address.free)
    i->second.next_ms = i->second.last_ms;
}

int64_t login_throttle::wait_seconds(std::string_view address,
                                     std::string_view username) const {
  std::lock_guard<std::mutex> guard{mtx_};
  auto now = now_ms();
  auto wait = wait_ms(address_key(address), now);
  if (!username.empty())
    wait = std::max(wait, wait_ms(username_key(username), now));
  return (wait + 999) / 1000;
}

size_t login_throttle::size() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return entries_.size();
}

} // namespace postern::http
