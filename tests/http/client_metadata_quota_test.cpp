// SPDX-License-Identifier: Apache-2.0
#include "postern/error.hpp"
#include "postern/http/client_metadata.hpp"
#include "postern/http/login_throttle.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <gtest/gtest.h>

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>

using postern::http::client_metadata_fetcher;

namespace {

/// Counts answers and lets the test wait for them (no sleeps).
struct answers {
  std::mutex mtx;
  std::condition_variable cv;
  size_t count = 0;

  void note() {
    std::lock_guard guard{mtx};
    ++count;
    cv.notify_all();
  }

  void wait_for(size_t n) {
    std::unique_lock guard{mtx};
    cv.wait(guard, [&] { return count >= n; });
  }
};

/// The sentence of a quota refusal (answered inside get()).
bool is_quota_refusal(const std::string& text) {
  return text.find("being fetched") != std::string::npos;
}

} // namespace

TEST(client_metadata_fetcher, quotas_per_requester_and_per_host) {
  // A host that accepts TCP connections (the kernel's backlog) and never
  // answers: every fetch stays in flight until its time limit.
  boost::asio::io_context ioc;
  boost::asio::ip::tcp::acceptor blackhole{
    ioc, {boost::asio::ip::make_address("127.0.0.1"), 0}};
  auto port = std::to_string(blackhole.local_endpoint().port());
  postern::http::guarded_fetcher::options net_opts;
  net_opts.allow_loopback = true;
  client_metadata_fetcher::options opts;
  opts.timeout = std::chrono::seconds(5);
  client_metadata_fetcher fetcher{
    opts, std::make_shared<postern::http::guarded_fetcher>(net_opts)};
  auto url = [&](const std::string& host, int i) {
    return "https://" + host + ":" + port + "/client-" + std::to_string(i)
           + ".json";
  };
  answers a;
  size_t calls = 0;
  // The quota sentence if get() refused at once, else "".
  auto fetch = [&](const std::string& u, const std::string& requester) {
    auto text = std::make_shared<std::string>();
    auto mtx = std::make_shared<std::mutex>();
    fetcher.get(u, requester,
                [&a, text,
                 mtx](caf::expected<postern::oauth::client_metadata> r) {
                  {
                    std::lock_guard guard{*mtx};
                    if (!r)
                      *text = postern::describe(r.error());
                  }
                  a.note();
                });
    ++calls;
    std::lock_guard guard{*mtx};
    return is_quota_refusal(*text) ? *text : std::string{};
  };
  for (int i = 0; i < 4; ++i)
    EXPECT_EQ(fetch(url("127.0.0.1", i), "203.0.113.7"), "");
  // A fifth from the same requester is refused at once, with a sentence.
  EXPECT_NE(fetch(url("127.0.0.1", 4), "203.0.113.7").find("at most 4"),
            std::string::npos);
  // Asking for a URL already in flight is free: it waits for that fetch.
  EXPECT_EQ(fetch(url("127.0.0.1", 0), "203.0.113.7"), "");
  // Others still get their own slots, up to 8 per host.
  for (int i = 10; i < 14; ++i)
    EXPECT_EQ(fetch(url("127.0.0.1", i), "198.51.100.1"), "");
  EXPECT_NE(fetch(url("127.0.0.1", 20), "192.0.2.1").find("from 127.0.0.1"),
            std::string::npos);
  // Another host is not held up by the slow one.
  EXPECT_EQ(fetch(url("localhost", 20), "192.0.2.1"), "");
  // Every fetch ends (its time limit); then the quotas are free again.
  a.wait_for(calls);
  EXPECT_EQ(fetch(url("127.0.0.1", 30), "203.0.113.7"), "");
  a.wait_for(calls);
}

TEST(address_bucket, ipv6_is_keyed_on_its_64) {
  using postern::http::address_bucket;
  EXPECT_EQ(address_bucket("203.0.113.7"), "203.0.113.7");
  EXPECT_EQ(address_bucket("2001:db8:1:2::1"), "2001:db8:1:2::/64");
  EXPECT_EQ(address_bucket("2001:db8:1:2:ffff:eeee:dddd:1"),
            "2001:db8:1:2::/64");
  EXPECT_NE(address_bucket("2001:db8:1:3::1"),
            address_bucket("2001:db8:1:2::1"));
  EXPECT_EQ(address_bucket("::ffff:192.0.2.1"), "192.0.2.1");
  EXPECT_EQ(address_bucket("not an address"), "not an address");
}
