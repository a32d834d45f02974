// SPDX-License-Identifier: Apache-2.0
#include "postern/error.hpp"
#include "postern/host_policy.hpp"

#include <gtest/gtest.h>

using namespace postern;

TEST(host_policy, private_ranges_are_denied_by_default) {
  auto p = host_policy::deny_private();
  for (auto a : {"127.0.0.1", "127.8.9.10", "10.1.2.3", "172.16.0.1",
                 "172.31.255.255", "192.168.1.1", "169.254.169.254",
                 "100.64.0.1", "0.0.0.0", "::1", "fd00::1", "fe80::1",
                 "::ffff:127.0.0.1", "::ffff:10.0.0.1", "[::1]", "::",
                 // NAT64 and 6to4 carry an IPv4 address inside IPv6.
                 "64:ff9b::a00:1", "64:ff9b::7f00:1", "64:ff9b:1::1",
                 "2002:a00:1::1", "2002:7f00:1::"})
    EXPECT_FALSE(p.allows_address(a)) << a;
  for (auto a : {"8.8.8.8", "172.32.0.1", "192.169.0.1", "2001:db8::1",
                 "1.1.1.1", "100.128.0.1", "64:ff9c::1", "2003::1"})
    EXPECT_TRUE(p.allows_address(a)) << a;
  EXPECT_FALSE(p.allows_address("not-an-address"));
}

TEST(host_policy, parse_lists_and_none) {
  auto none = host_policy::parse("none");
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->allows_everything());
  EXPECT_TRUE(none->allows_address("127.0.0.1"));
  auto custom = host_policy::parse(" 203.0.113.0/24 , loopback ");
  ASSERT_TRUE(custom);
  EXPECT_FALSE(custom->allows_address("203.0.113.77"));
  EXPECT_FALSE(custom->allows_address("127.0.0.1"));
  EXPECT_TRUE(custom->allows_address("10.0.0.1"));
  auto v6 = host_policy::parse("2001:db8::/32");
  ASSERT_TRUE(v6);
  EXPECT_FALSE(v6->allows_address("2001:db8:1::5"));
  EXPECT_TRUE(v6->allows_address("2001:db9::5"));
  for (auto bad : {"10.0.0.0/33", "nonsense", "1.2.3.4/x", "::/129"}) {
    auto r = host_policy::parse(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_NE(describe(r.error()).find("ACCOUNT_HOST_DENY"), std::string::npos);
  }
}

TEST(host_policy, check_host_as_typed_by_a_user) {
  auto p = host_policy::deny_private();
  EXPECT_FALSE(p.check_host("imap.example.com"));
  EXPECT_FALSE(p.check_host("8.8.8.8"));
  EXPECT_EQ(p.check_host("127.0.0.1"), ec::forbidden);
  EXPECT_EQ(p.check_host("localhost"), ec::forbidden);
  EXPECT_EQ(p.check_host("foo.localhost"), ec::forbidden);
  EXPECT_EQ(p.check_host("[::1]"), ec::forbidden);
  EXPECT_EQ(p.check_host("192.168.0.10"), ec::forbidden);
  for (auto bad :
       {"", "imap.example.com:993", "http://x", "a b", "a..b", "-", "x/y"})
    EXPECT_EQ(p.check_host(bad), ec::invalid_argument) << bad;
  EXPECT_FALSE(host_policy::parse("none")->check_host("127.0.0.1"));
}

TEST(host_policy, loopback_names) {
  EXPECT_TRUE(is_loopback_host("localhost"));
  EXPECT_TRUE(is_loopback_host("LOCALHOST"));
  EXPECT_TRUE(is_loopback_host("127.0.0.1"));
  EXPECT_TRUE(is_loopback_host("::1"));
  EXPECT_FALSE(is_loopback_host("localhost.example.com"));
  EXPECT_FALSE(is_loopback_host("10.0.0.1"));
}
