// SPDX-License-Identifier: Apache-2.0
#include "postern/send_rules.hpp"

#include <gtest/gtest.h>

using namespace postern;

namespace {

std::vector<std::string> parsed(std::string_view text) {
  std::string problem;
  auto r = parse_recipient_patterns(text, &problem);
  EXPECT_TRUE(r) << problem;
  return r ? *r : std::vector<std::string>{};
}

std::string problem_of(std::string_view text) {
  std::string problem;
  EXPECT_FALSE(parse_recipient_patterns(text, &problem)) << text;
  return problem;
}

} // namespace

TEST(send_rules, parse_lowercases_dedupes_and_takes_any_separator) {
  EXPECT_EQ(parsed("Bob@Example.org, *@EXAMPLE.com;ann@x.example\n"
                   "bob@example.org  @partner.example"),
            (std::vector<std::string>{"bob@example.org", "*@example.com",
                                      "ann@x.example", "*@partner.example"}));
  EXPECT_TRUE(parsed("").empty());
  EXPECT_TRUE(parsed(" , ;\n").empty());
}

TEST(send_rules, parse_refuses_what_is_not_an_address_with_a_sentence) {
  EXPECT_NE(problem_of("bob").find("\"bob\" is neither an address"),
            std::string::npos);
  EXPECT_NE(problem_of("b*b@example.org").find("neither"), std::string::npos);
  EXPECT_NE(problem_of("*@*.example.org").find("neither"), std::string::npos);
  EXPECT_NE(problem_of("a@b@c.example").find("neither"), std::string::npos);
  EXPECT_NE(problem_of("bob@.example").find("neither"), std::string::npos);
  EXPECT_NE(problem_of("\"Bob\"<bob@example.org>").find("character"),
            std::string::npos);
  // Long input is never echoed whole.
  auto problem = problem_of(std::string(300, 'x') + "@example.org");
  EXPECT_NE(problem.find("too long"), std::string::npos);
  EXPECT_LT(problem.size(), 200u);
  std::string many;
  for (size_t i = 0; i <= max_recipient_patterns; ++i)
    many += "p" + std::to_string(i) + "@example.org ";
  EXPECT_NE(problem_of(many).find("at most"), std::string::npos);
}

TEST(send_rules, allows_addresses_and_whole_domains_only) {
  send_rules rules;
  EXPECT_TRUE(rules.open());
  EXPECT_TRUE(rules.allows("anyone@anywhere.example"));
  EXPECT_EQ(rules.describe_recipients(), "anyone");
  rules.recipients = parsed("bob@example.org, *@example.com");
  EXPECT_FALSE(rules.open());
  EXPECT_TRUE(rules.allows("BOB@example.org"));
  EXPECT_TRUE(rules.allows("carol@Example.Com"));
  EXPECT_FALSE(rules.allows("carol@sub.example.com")); // not subdomains
  EXPECT_FALSE(rules.allows("carol@example.com.evil.example"));
  EXPECT_FALSE(rules.allows("bob@example.org.evil.example"));
  EXPECT_FALSE(rules.allows("alice@example.org"));
  EXPECT_FALSE(rules.allows("x@example.com@evil.example"));
  EXPECT_FALSE(rules.allows(""));
  EXPECT_EQ(rules.describe_recipients(),
            "bob@example.org or anyone at example.com");
  EXPECT_EQ(rules.recipients_line(), "bob@example.org, *@example.com");
}

TEST(send_rules, refusal_names_the_first_refused_and_who_is_allowed) {
  send_rules rules;
  rules.recipients = parsed("ann@example.org");
  EXPECT_EQ(rules.refusal({"ann@example.org"}), "");
  auto why = rules.refusal({"ann@example.org", "eve@evil.example",
                            "mallory@evil.example"});
  EXPECT_NE(why.find("may only write to ann@example.org, so it cannot send "
                     "to eve@evil.example"),
            std::string::npos)
    << why;
  EXPECT_EQ(why.find("mallory"), std::string::npos);
  rules.recipients.clear();
  EXPECT_EQ(rules.refusal({"eve@evil.example"}), "");
}
