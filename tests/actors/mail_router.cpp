// SPDX-License-Identifier: Apache-2.0
#define CAF_SUITE actors.mail_router

#include "postern/actors/mail_router.hpp"

#include "actors/fake_mail.hpp"
#include "caf_test.hpp"

#include <caf/scoped_actor.hpp>

#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <memory>
#include <sstream>
#include <vector>

using namespace postern;

namespace {

using folders = std::vector<imap::folder>;

mailbox_ref mailbox(const std::string& user, const std::string& account) {
  return mailbox_ref{user_id{user}, account_id{account}};
}

struct fixture : test_coordinator_fixture<postern::test::configuration> {
  /// Runs the actors without firing timers: the fixture's run() also
  /// triggers timeouts, and the ACCOUNT's tick sets itself again, forever.
  /// Tests move the clock with advance_time.
  size_t run() {
    return sched.run();
  }

  fixture() {
    dir = sys.spawn(test::fake_directory,
                    std::make_shared<test::settings_directory>());
    vlt = sys.spawn(test::fake_vault);
    run();
  }

  ~fixture() override {
    // The ACCOUNTs monitor the MAIL ROUTER and end with it.
    for (auto a :
         {caf::actor_cast<caf::actor>(router), caf::actor_cast<caf::actor>(dir),
          caf::actor_cast<caf::actor>(vlt)})
      if (a)
        anon_send_exit(a, caf::exit_reason::user_shutdown);
    run();
  }

  /// Starts the MAIL ROUTER; its ACCOUNTs run in the test coordinator with
  /// fake IMAP CONNECTIONs.
  void start(mail_options opts = {}) {
    opts.connect = [](caf::local_actor* spawner, std::shared_ptr<imap::session>,
                      const server_settings& server, secret password) {
      return spawner->spawn(test::fake_connection, server, std::move(password),
                            caf::error{});
    };
    router = sys.spawn(mail_router, dir, vlt, std::move(opts), index);
    run();
  }

  mail_router_state& state() {
    using base = mail_router_actor::stateful_base<mail_router_state>;
    return deref<base>(router).state;
  }

  /// The ACCOUNT the MAIL ROUTER started for `ref`.
  account_actor account_of(const mailbox_ref& ref) {
    return state().accounts.at(ref.user.value + "/" + ref.account.value);
  }

  /// Asks the MAIL ROUTER for the folders of `ref`; the router takes it.
  void ask_folders(const mailbox_ref& ref) {
    self->send(router, atom::folders_v, ref, false);
    expect((atom::folders, mailbox_ref, bool), from(self).to(router));
  }

  /// Lists the folders of `ref` through the MAIL ROUTER, all steps at once.
  void list(const mailbox_ref& ref) {
    ask_folders(ref);
    run();
    auto xs = test::take<folders>(self);
    CAF_REQUIRE_EQUAL(xs.size(), 1u);
    CAF_CHECK_EQUAL(xs[0].name, "INBOX");
  }

  /// The error a request fails with (none if it succeeded).
  template <class T, class... Ts>
  caf::error error_of(Ts... xs) {
    caf::error result;
    auto res = self->request(router, caf::infinite, xs...);
    run();
    res.receive([](T&) {}, [&](caf::error& e) { result = std::move(e); });
    return result;
  }

  /// The answer to a request (the fixture's request() would run timers).
  template <class T, class... Ts>
  T ask(Ts... xs) {
    T result;
    auto res = self->request(router, caf::infinite, xs...);
    run();
    res.receive([&](T& x) { result = std::move(x); },
                [&](caf::error& e) { CAF_FAIL(describe(e)); });
    return result;
  }

  mail_status status() {
    return ask<mail_status>(atom::status_v);
  }

  /// The ACCOUNT of `ref`, just started, is refused its first permit.
  void expect_refused(const mailbox_ref& ref) {
    ask_folders(ref);
    auto acct = account_of(ref);
    expect((atom::folders, mailbox_ref, bool), from(self).to(acct));
    expect((atom::acquire, user_id), from(acct).to(router).with(_, ref.user));
    expect((caf::error), from(router).to(acct));
    disallow((atom::get, user_id, account_id), from(acct).to(dir));
    CAF_CHECK_EQUAL(test::take<caf::error>(self), ec::too_busy);
  }

  const mailbox_ref alice_work = mailbox("alice", "work");
  const mailbox_ref alice_home = mailbox("alice", "home");
  const mailbox_ref bob_work = mailbox("bob", "work");
  /// The index callers read to ask an ACCOUNT directly.
  std::shared_ptr<account_index> index = std::make_shared<account_index>();
  directory_actor dir;
  vault_actor vlt;
  mail_router_actor router;
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(mail_router_tests, fixture)

CAF_TEST(a request starts the ACCOUNT of its mailbox and takes a permit) {
  start();
  ask_folders(alice_work);
  CAF_REQUIRE_EQUAL(state().accounts.size(), 1u);
  auto acct = account_of(alice_work);
  // Delegated: the ACCOUNT answers the caller itself.
  expect((atom::folders, mailbox_ref, bool), from(self).to(acct));
  expect((atom::acquire, user_id),
         from(acct).to(router).with(_, alice_work.user));
  expect((atom::ok), from(router).to(acct));
  CAF_CHECK_EQUAL(state().total, 1u);
  CAF_CHECK_EQUAL(state().per_user.at("alice"), 1u);
  CAF_CHECK_EQUAL(state().held.at(acct.address()).second, 1u);
  run();
  auto xs = test::take<folders>(self);
  CAF_REQUIRE_EQUAL(xs.size(), 1u);
  CAF_CHECK_EQUAL(xs[0].name, "INBOX");
}

CAF_TEST(each mailbox has one ACCOUNT) {
  start();
  list(alice_work);
  auto first = account_of(alice_work);
  ask_folders(alice_work);
  CAF_CHECK_EQUAL(state().accounts.size(), 1u);
  expect((atom::folders, mailbox_ref, bool), from(self).to(first));
  // Its idle connection takes the request: no second permit.
  disallow((atom::acquire, user_id), from(first).to(router));
  run();
  test::take<folders>(self);
  list(alice_home);
  list(bob_work);
  CAF_CHECK_EQUAL(state().accounts.size(), 3u);
  CAF_CHECK(account_of(alice_home) != first);
  auto st = status();
  CAF_CHECK_EQUAL(st.accounts, 3);
  CAF_CHECK_EQUAL(st.connections, 3);
}

CAF_TEST(max_per_user refuses the next connection of a user not others) {
  mail_options opts;
  opts.max_per_user = 1;
  start(opts);
  list(alice_work);
  expect_refused(alice_home);
  CAF_CHECK_EQUAL(state().per_user.at("alice"), 1u);
  list(bob_work);
  CAF_CHECK_EQUAL(state().total, 2u);
}

CAF_TEST(max_total refuses every user at the limit) {
  mail_options opts;
  opts.max_total = 1;
  start(opts);
  list(alice_work);
  expect_refused(bob_work);
  CAF_CHECK_EQUAL(state().total, 1u);
  CAF_CHECK_EQUAL(state().per_user.count("bob"), 0u);
}

CAF_TEST(permits are counted per holder and given back by it alone) {
  mail_options opts;
  opts.max_per_user = 2;
  start(opts);
  auto alice = alice_work.user;
  ask<atom::ok>(atom::acquire_v, alice);
  ask<atom::ok>(atom::acquire_v, alice);
  CAF_CHECK_EQUAL(error_of<atom::ok>(atom::acquire_v, alice), ec::too_busy);
  {
    // An actor that holds no permit cannot give back someone else's.
    caf::scoped_actor stranger{sys};
    stranger->send(router, atom::release_v, alice);
    run();
  }
  CAF_CHECK_EQUAL(state().total, 2u);
  CAF_CHECK_EQUAL(error_of<atom::ok>(atom::acquire_v, alice), ec::too_busy);
  self->send(router, atom::release_v, alice);
  run();
  CAF_CHECK_EQUAL(state().total, 1u);
  ask<atom::ok>(atom::acquire_v, alice);
  CAF_CHECK_EQUAL(state().held.at(self->address()).second, 2u);
}

CAF_TEST(forget ends the ACCOUNT and its permits come back) {
  start();
  list(alice_work);
  auto old = account_of(alice_work);
  CAF_CHECK_EQUAL(state().total, 1u);
  self->send(router, atom::forget_v, alice_work);
  run();
  // The ACCOUNT sent no release: its down message gave the permit back.
  CAF_CHECK(state().accounts.empty());
  CAF_CHECK(state().keys.empty());
  CAF_CHECK(state().held.empty());
  CAF_CHECK_EQUAL(state().total, 0u);
  CAF_CHECK(state().per_user.empty());
  // The next request starts a fresh ACCOUNT.
  list(alice_work);
  CAF_CHECK(account_of(alice_work) != old);
  CAF_CHECK_EQUAL(state().total, 1u);
}

CAF_TEST(an ACCOUNT that ends idle is forgotten and the router lives on) {
  mail_options opts;
  opts.idle = std::chrono::seconds(0); // the ACCOUNT's tick comes after 1 s
  start(opts);
  list(alice_work);
  advance_time(std::chrono::seconds(1));
  run();
  CAF_CHECK(state().accounts.empty());
  CAF_CHECK_EQUAL(state().total, 0u);
  CAF_CHECK_EQUAL(status().accounts, 0);
  list(alice_work);
  CAF_CHECK_EQUAL(status().accounts, 1);
}

CAF_TEST(an ACCOUNT that fails is forgotten and the other mailboxes go on) {
  // One mailbox's failure (an exception on a hostile message ends its
  // ACCOUNT with an error) must not end the MAIL ROUTER and with it every
  // tenant's mail: the router monitors its ACCOUNTs, it does not link them.
  start();
  list(alice_work);
  list(bob_work);
  auto failed = account_of(alice_work);
  auto other = account_of(bob_work);
  self->monitor(router);
  // The log names why it ended, not the exception's text (which may quote
  // a mail server or a message).
  std::ostringstream log;
  auto previous = spdlog::default_logger();
  spdlog::set_default_logger(std::make_shared<spdlog::logger>(
    "capture", std::make_shared<spdlog::sinks::ostream_sink_mt>(log)));
  self->send_exit(
    failed,
    caf::error{static_cast<uint8_t>(caf::exit_reason::unhandled_exception),
               caf::atom("exit"), caf::make_message("server said: hunter2")});
  run();
  spdlog::set_default_logger(previous);
  CAF_CHECK_NOT_EQUAL(log.str().find("unhandled_exception"), std::string::npos);
  CAF_CHECK_EQUAL(log.str().find("hunter2"), std::string::npos);
  disallow((caf::down_msg), from(router).to(self));
  CAF_CHECK_EQUAL(state().accounts.size(), 1u);
  CAF_CHECK(account_of(bob_work) == other);
  CAF_CHECK_EQUAL(state().total, 1u);
  // The failed mailbox starts afresh; the other one still answers.
  list(alice_work);
  CAF_CHECK(account_of(alice_work) != failed);
  list(bob_work);
  CAF_CHECK_EQUAL(status().accounts, 2);
}

CAF_TEST(the ACCOUNTs end with the MAIL ROUTER) {
  start();
  list(alice_work);
  auto acct = account_of(alice_work);
  self->monitor(acct);
  anon_send_exit(router, caf::exit_reason::user_shutdown);
  run();
  CAF_CHECK_EQUAL(test::take<caf::down_msg>(self).reason,
                  caf::exit_reason::user_shutdown);
}

CAF_TEST(the index names exactly the running ACCOUNTs) {
  // Callers skip the router for a mailbox the index names; it must never
  // name a mailbox's ACCOUNT for another mailbox, and must drop an ACCOUNT
  // as soon as the router forgets it.
  mail_options opts;
  opts.idle = std::chrono::seconds(0); // the ACCOUNT's tick comes after 1 s
  start(opts);
  CAF_CHECK(!index->find(alice_work));
  list(alice_work);
  list(bob_work);
  CAF_CHECK_EQUAL(index->size(), 2u);
  auto found = index->find(alice_work);
  CAF_REQUIRE(found);
  CAF_CHECK(caf::actor_cast<caf::actor_addr>(*found)
            == account_of(alice_work).address());
  CAF_CHECK(caf::actor_cast<caf::actor_addr>(*index->find(bob_work))
            == account_of(bob_work).address());
  CAF_CHECK(!index->find(alice_home));
  // Forget: gone from the index at once, before its down message.
  self->send(router, atom::forget_v, alice_work);
  expect((atom::forget, mailbox_ref), from(self).to(router));
  CAF_CHECK(!index->find(alice_work));
  run();
  CAF_CHECK_EQUAL(index->size(), 1u);
  // Idle end: gone once the router hears of it.
  advance_time(std::chrono::seconds(1));
  run();
  CAF_CHECK(state().accounts.empty());
  CAF_CHECK_EQUAL(index->size(), 0u);
  // Router end: the index lets go of every ACCOUNT.
  list(alice_home);
  CAF_CHECK_EQUAL(index->size(), 1u);
  anon_send_exit(router, caf::exit_reason::user_shutdown);
  run();
  CAF_CHECK_EQUAL(index->size(), 0u);
}

CAF_TEST_FIXTURE_SCOPE_END()
