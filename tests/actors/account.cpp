// SPDX-License-Identifier: Apache-2.0
#define CAF_SUITE actors.account

#include "postern/actors/account.hpp"

#include "actors/fake_mail.hpp"
#include "caf_test.hpp"

#include <caf/scoped_actor.hpp>

#include <memory>
#include <vector>

using namespace postern;

namespace {

using folders = std::vector<imap::folder>;

struct fixture : test_coordinator_fixture<postern::test::configuration> {
  /// Runs the actors without firing timers: the fixture's run() also
  /// triggers timeouts, and the ACCOUNT's tick sets itself again, forever.
  /// Tests move the clock with advance_time.
  size_t run() {
    return sched.run();
  }

  fixture() {
    ref.user.value = "alice";
    ref.account.value = "work";
    dir = sys.spawn(test::fake_directory,
                    std::make_shared<test::settings_directory>());
    vlt = sys.spawn(test::fake_vault);
    router = sys.spawn(test::fake_router);
    run();
  }

  ~fixture() override {
    // The ACCOUNT ends its connections when it ends.
    for (auto a :
         {caf::actor_cast<caf::actor>(acct), caf::actor_cast<caf::actor>(dir),
          caf::actor_cast<caf::actor>(vlt),
          caf::actor_cast<caf::actor>(router)})
      if (a)
        anon_send_exit(a, caf::exit_reason::user_shutdown);
    run();
  }

  /// Starts the ACCOUNT; its IMAP CONNECTIONs are fakes (in `connections`,
  /// oldest first) that fail every request with `login_error` when set.
  void start(mail_options opts = {}) {
    opts.connect = [this](caf::local_actor* spawner,
                          std::shared_ptr<imap::session>,
                          const server_settings& server, secret password) {
      auto hdl = spawner->spawn(test::fake_connection, server,
                                std::move(password), login_error);
      connections.push_back(hdl);
      return hdl;
    };
    acct = sys.spawn(account, ref, dir, vlt, router, std::move(opts));
    run();
  }

  account_state& state() {
    return deref<account_actor::stateful_base<account_state>>(acct).state;
  }

  test::fake_router_state& permits() {
    using base = mail_router_actor::stateful_base<test::fake_router_state>;
    return deref<base>(router).state;
  }

  test::fake_connection_state& connection(size_t i) {
    using base
      = imap_connection_actor::stateful_base<test::fake_connection_state>;
    return deref<base>(connections.at(i)).state;
  }

  /// `caller` asks the ACCOUNT for the folders; the ACCOUNT takes it.
  void ask_folders(const caf::scoped_actor& caller) {
    caller->send(acct, atom::folders_v, ref, false);
    expect((atom::folders, mailbox_ref, bool), from(caller).to(acct));
  }

  void ask_folders() {
    ask_folders(self);
  }

  /// The steps of opening a connection, in order: a permit from the MAIL
  /// ROUTER, the settings from the DIRECTORY, the password from the VAULT.
  void expect_open() {
    expect((atom::acquire, user_id), from(acct).to(router).with(_, ref.user));
    expect((atom::ok), from(router).to(acct));
    expect((atom::get, user_id, account_id),
           from(acct).to(dir).with(_, ref.user, ref.account));
    expect((account_settings), from(dir).to(acct));
    expect((atom::get, user_id, account_id),
           from(acct).to(vlt).with(_, ref.user, ref.account));
    expect((account_credentials), from(vlt).to(acct));
  }

  /// Starts an ACCOUNT with a pool of one connection and opens it for a
  /// first folder listing, which then holds the connection.
  void start_with_one_busy_connection() {
    mail_options opts;
    opts.pool_size = 1;
    start(opts);
    ask_folders();
    expect_open();
  }

  /// The ACCOUNT runs a folder listing on `conn`, which answers.
  void expect_listing_on(const imap_connection_actor& conn) {
    expect((atom::folders, bool), from(acct).to(conn).with(_, false));
    expect((folders), from(conn).to(acct));
  }

  /// Runs every actor but `silent`, which keeps what it was sent unread
  /// (a connection that never answers).
  size_t run_all_but(const imap_connection_actor& silent) {
    auto* job = dynamic_cast<caf::resumable*>(
      caf::actor_cast<caf::abstract_actor*>(silent));
    return sched.run_jobs_filtered(
      [job](caf::resumable* x) { return x != job; });
  }

  /// The next answer `self` got, which must be a `T`.
  template <class T>
  T answer() {
    return test::take<T>(self);
  }

  /// Takes the next answer of `self`, which must be the fake's folders.
  void expect_folders() {
    auto xs = answer<folders>();
    CAF_REQUIRE_EQUAL(xs.size(), 1u);
    CAF_CHECK_EQUAL(xs[0].name, "INBOX");
  }

  mailbox_ref ref;
  directory_actor dir;
  vault_actor vlt;
  mail_router_actor router;
  account_actor acct;
  caf::error login_error;
  std::vector<imap_connection_actor> connections;
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(account_tests, fixture)

CAF_TEST(a request opens a connection and gets its answer) {
  start();
  ask_folders();
  expect_open();
  CAF_REQUIRE_EQUAL(connections.size(), 1u);
  expect_listing_on(connections[0]);
  // The connection got the DIRECTORY's server and the VAULT's password
  // (it has run once now, so its state is set).
  CAF_CHECK_EQUAL(connection(0).server.host, "imap.example.com");
  CAF_CHECK_EQUAL(connection(0).password.reveal(), test::fake_password);
  expect_folders();
  CAF_REQUIRE_EQUAL(state().pool.size(), 1u);
  CAF_CHECK(!state().pool[0].busy);
  CAF_CHECK(state().pool[0].proven);
  CAF_CHECK_EQUAL(permits().granted, 1u);
}

CAF_TEST(a second request reuses the idle connection) {
  start();
  ask_folders();
  expect_open();
  expect_listing_on(connections.at(0));
  expect_folders();
  ask_folders();
  // No second permit: the idle connection takes the request at once.
  disallow((atom::acquire, user_id), from(acct).to(router));
  expect_listing_on(connections.at(0));
  expect_folders();
  CAF_CHECK_EQUAL(connections.size(), 1u);
  CAF_CHECK_EQUAL(permits().granted, 1u);
}

CAF_TEST(a refused permit fails the request without asking further) {
  permits().refuse = caf::make_error(ec::too_busy, "limit");
  start();
  ask_folders();
  expect((atom::acquire, user_id), from(acct).to(router));
  expect((caf::error), from(router).to(acct));
  disallow((atom::get, user_id, account_id), from(acct).to(dir));
  CAF_CHECK_EQUAL(answer<caf::error>(), ec::too_busy);
  // No permit held, so none given back.
  disallow((atom::release, user_id), from(acct).to(router));
  CAF_CHECK_EQUAL(state().opening, 0u);
  CAF_CHECK(state().queue.empty());
  CAF_CHECK(connections.empty());
}

CAF_TEST(a login failure is cached and answers the next request at once) {
  login_error = caf::make_error(ec::authentication_failed, "wrong password");
  start();
  ask_folders();
  expect_open();
  expect((atom::folders, bool), from(acct).to(connections.at(0)));
  expect((caf::error), from(connections.at(0)).to(acct));
  CAF_CHECK_EQUAL(answer<caf::error>(), ec::authentication_failed);
  // The connection is dropped and its permit given back.
  expect((atom::release, user_id), from(acct).to(router).with(_, ref.user));
  run();
  CAF_CHECK(state().pool.empty());
  ask_folders();
  CAF_CHECK_EQUAL(answer<caf::error>(), ec::authentication_failed);
  // Not a second login: the server is not asked again.
  disallow((atom::acquire, user_id), from(acct).to(router));
  CAF_CHECK_EQUAL(connections.size(), 1u);
  CAF_CHECK_EQUAL(permits().granted, 1u);
  CAF_CHECK_EQUAL(permits().released, 1u);
}

CAF_TEST(after the login failure cache the next request logs in again) {
  // The counterpart of the test above: without a cache period the next
  // request does open a connection (so that test's disallow can fail).
  login_error = caf::make_error(ec::authentication_failed, "wrong password");
  mail_options opts;
  opts.login_failure_cache = std::chrono::seconds(0);
  start(opts);
  ask_folders();
  expect_open();
  expect((atom::folders, bool), from(acct).to(connections.at(0)));
  expect((caf::error), from(connections.at(0)).to(acct));
  CAF_CHECK_EQUAL(answer<caf::error>(), ec::authentication_failed);
  run();
  login_error = caf::error{};
  ask_folders();
  expect_open();
  expect_listing_on(connections.at(1));
  expect_folders();
}

CAF_TEST(a full queue refuses the request with too_busy) {
  mail_options opts;
  opts.pool_size = 1;
  opts.max_queue = 1;
  start(opts);
  ask_folders(); // waits for its connection
  ask_folders(); // finds the queue full
  auto err = answer<caf::error>();
  CAF_CHECK_EQUAL(err, ec::too_busy);
  CAF_CHECK_EQUAL(state().queue.size(), 1u);
  CAF_CHECK_EQUAL(state().opening, 1u);
  // The first request goes on as usual.
  expect_open();
  expect_listing_on(connections.at(0));
  expect_folders();
  CAF_CHECK(state().queue.empty());
}

CAF_TEST(no connection is opened beyond the pool size) {
  start_with_one_busy_connection();
  // The first request now runs on the only connection; the second waits.
  ask_folders();
  disallow((atom::acquire, user_id), from(acct).to(router));
  CAF_CHECK_EQUAL(state().queue.size(), 1u);
  expect_listing_on(connections.at(0));
  expect_folders();
  // When the first is done, the second runs on the same connection.
  expect_listing_on(connections.at(0));
  expect_folders();
  CAF_CHECK_EQUAL(connections.size(), 1u);
  CAF_CHECK_EQUAL(permits().granted, 1u);
}

CAF_TEST(a queued request whose caller went away is not run) {
  start_with_one_busy_connection();
  {
    // A tool call that is cancelled while its request waits.
    caf::scoped_actor client{sys};
    ask_folders(client);
    CAF_CHECK_EQUAL(state().queue.size(), 1u);
  }
  expect((caf::down_msg), from(_).to(acct));
  CAF_CHECK(state().queue.empty());
  expect_listing_on(connections.at(0));
  expect_folders();
  disallow((atom::folders, bool), from(acct).to(connections.at(0)));
}

CAF_TEST(a caller with two waiting requests is watched until both start) {
  start_with_one_busy_connection();
  {
    caf::scoped_actor client{sys};
    ask_folders(client);
    ask_folders(client);
    // The first request is done; the client's first one starts.
    expect_listing_on(connections.at(0));
    expect_folders();
    CAF_CHECK_EQUAL(state().queue.size(), 1u);
  }
  // The client went away while its second request waits: it is dropped.
  expect((caf::down_msg), from(_).to(acct));
  CAF_CHECK(state().queue.empty());
  expect_listing_on(connections.at(0));
  disallow((atom::folders, bool), from(acct).to(connections.at(0)));
}

CAF_TEST(a connection that ends is dropped and its permit released) {
  start();
  ask_folders();
  expect_open();
  expect_listing_on(connections.at(0));
  expect_folders();
  anon_send_exit(connections.at(0), caf::exit_reason::kill);
  expect((caf::exit_msg), from(_).to(connections.at(0)));
  expect((caf::down_msg), from(_).to(acct));
  expect((atom::release, user_id), from(acct).to(router).with(_, ref.user));
  CAF_CHECK(state().pool.empty());
  CAF_CHECK_EQUAL(permits().released, 1u);
  // The next request opens a new connection.
  ask_folders();
  expect_open();
  expect_listing_on(connections.at(1));
  expect_folders();
}

CAF_TEST(idle connections close on the tick and then the ACCOUNT ends) {
  mail_options opts;
  opts.idle = std::chrono::seconds(0); // the tick comes after a second
  start(opts);
  ask_folders();
  expect_open();
  expect_listing_on(connections.at(0));
  expect_folders();
  self->monitor(acct);
  advance_time(std::chrono::seconds(1));
  expect((atom::tick), from(acct).to(acct));
  expect((atom::release, user_id), from(acct).to(router).with(_, ref.user));
  run();
  CAF_CHECK_EQUAL(permits().released, 1u);
  CAF_CHECK_EQUAL(answer<caf::down_msg>().reason, caf::exit_reason::normal);
}

CAF_TEST(a connection busy past its operation timeout is dropped on the tick) {
  // The ACCOUNT asks its connections without a timer; a connection that
  // never answers must still give its permit back and answer its caller.
  mail_options opts;
  opts.pool_size = 1;
  opts.operation_timeout = std::chrono::seconds(5);
  opts.stuck_grace = std::chrono::seconds(2);
  opts.idle = std::chrono::seconds(60); // a tick every 30 s (test clock)
  start(opts);
  ask_folders();
  expect_open();
  // The request reaches the connection, which never runs it.
  CAF_REQUIRE_EQUAL(state().pool.size(), 1u);
  CAF_REQUIRE(state().pool.front().busy);
  // Not yet stuck: the tick leaves it alone. (Busy time is real time, set
  // back by hand below; ticks come from the test clock.)
  // (Moving the clock also fires the stale timeouts of the requests that
  // opened the connection, hence no expect.)
  advance_time(std::chrono::seconds(30));
  run_all_but(connections.at(0));
  CAF_CHECK_EQUAL(state().pool.size(), 1u);
  CAF_CHECK_EQUAL(permits().released, 0u);
  // Busy for longer than operation_timeout + stuck_grace.
  state().pool.front().last_used -= std::chrono::seconds(8);
  advance_time(std::chrono::seconds(30));
  run_all_but(connections.at(0));
  CAF_CHECK(state().pool.empty());
  run();
  CAF_CHECK_EQUAL(permits().released, 1u);
  // The caller hears back: here the fake still answers the request it
  // holds before it reads its exit; a hung one answers once cancelled, or
  // its request bounces, which the ACCOUNT passes on as a connection
  // failure, never as "receiver down" (callers read that as "the ACCOUNT
  // ended before taking the call" and ask again).
  bool answered = false;
  self->receive([&](folders&) { answered = true; },
                [&](caf::error& err) {
                  answered = true;
                  CAF_CHECK_NOT_EQUAL(err, caf::sec::request_receiver_down);
                },
                caf::after(std::chrono::seconds(0)) >> [] {});
  CAF_CHECK(answered);
}

CAF_TEST_FIXTURE_SCOPE_END()
