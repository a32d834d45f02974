// SPDX-License-Identifier: Apache-2.0
// The /mcp endpoint with a real actor system, the real TOKEN AUTHORITY, and
// stand-ins for the MAIL ROUTER and the DIRECTORY: how tool calls become
// typed mail requests, how results and errors come back, and what goes to
// the audit log. (The real mail engine is covered end to end in
// tests/e2e.) Also the session table, the rate limiter and the header
// helpers.

#include "postern/actors/actor_config.hpp"
#include "postern/actors/token_authority.hpp"
#include "postern/error.hpp"
#include "postern/http/mcp_endpoint.hpp"
#include "postern/http/mcp_sessions.hpp"
#include "postern/storage/crypto.hpp"
#include "postern/storage/directory_store.hpp"
#include "support/fake_actors.hpp"
#include "support/lmdb_env.hpp"

#include <caf/actor_cast.hpp>
#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <condition_variable>
#include <cstdlib>
#include <future>
#include <mutex>

using namespace postern;
using namespace postern::http;
using namespace std::chrono_literals;

namespace {

/// How long a test waits for an answer that must come. Only a failure
/// takes this long: every wait ends at the event it waits for.
constexpr auto answer_timeout = 60s;

/// What the stand-ins saw.
struct recorder {
  std::mutex mtx;
  std::condition_variable cv;
  std::vector<std::string> calls;
  std::string folder;
  imap::page_request page;
  std::vector<uint32_t> uids;
  imap::read_options window;
  imap::search_query query;
  imap::flag_change change;
  mime::outgoing_message outgoing;
  send_rules send;
  mailbox_ref ref;
  std::vector<audit_event> audit;
  size_t audit_batches = 0;

  void note(std::string what) {
    std::lock_guard<std::mutex> guard{mtx};
    calls.push_back(std::move(what));
  }

  std::vector<audit_event> wait_audit(size_t n) {
    std::unique_lock<std::mutex> guard{mtx};
    cv.wait_for(guard, answer_timeout, [&] { return audit.size() >= n; });
    return audit;
  }
};

imap::message_summary summary(uint32_t uid) {
  imap::message_summary s;
  s.uid = uid;
  s.subject = "Secret subject " + std::to_string(uid);
  s.from = {{"Carol", "carol@example.test"}};
  s.date = "2026-01-02T03:04:05Z";
  return s;
}

/// The MAIL ROUTER stand-in: records each request, answers from fixtures.
class recording_mail : public test::mail_fake {
public:
  explicit recording_mail(std::shared_ptr<recorder> rec) : rec_(rec) {
    // nop
  }

  caf::result<std::vector<imap::folder>> folders(const mailbox_ref& ref,
                                                 bool) override {
    rec_->note("folders");
    rec_->ref = ref;
    imap::folder inbox;
    inbox.name = "INBOX";
    inbox.delimiter = "/";
    return std::vector<imap::folder>{inbox};
  }

  caf::result<imap::message_page>
  messages(const mailbox_ref&, const std::string& folder,
           const imap::page_request& page) override {
    rec_->note("messages");
    rec_->folder = folder;
    rec_->page = page;
    if (folder == "Nope")
      return caf::make_error(ec::no_such_folder,
                             "The folder \"Nope\" does not exist");
    imap::message_page p;
    p.messages = {summary(9), summary(8)};
    p.total = 2;
    p.page = static_cast<uint32_t>(page.page);
    p.page_size = static_cast<uint32_t>(page.page_size);
    return p;
  }

  caf::result<std::vector<imap::read_outcome>>
  read(const mailbox_ref&, const std::string& folder,
       const std::vector<uint32_t>& uids,
       const imap::read_options& window) override {
    rec_->note("read");
    rec_->folder = folder;
    rec_->uids = uids;
    rec_->window = window;
    std::vector<imap::read_outcome> result;
    for (auto uid : uids) {
      imap::read_outcome o;
      o.uid = uid;
      if (uid == 404) {
        o.error = caf::make_error(ec::no_such_message,
                                  "There is no message with UID 404");
      } else {
        o.msg.summary = summary(uid);
        o.msg.body = "Body of " + std::to_string(uid);
        o.msg.body_length = o.msg.body.size();
      }
      result.push_back(std::move(o));
    }
    return result;
  }

  caf::result<imap::search_result>
  search(const mailbox_ref&, const std::string& folder,
         const imap::search_query& q) override {
    rec_->note("search");
    rec_->folder = folder;
    rec_->query = q;
    imap::search_result r;
    r.messages = {summary(5)};
    r.total = 1;
    return r;
  }

  caf::result<imap::move_result> move(const mailbox_ref&,
                                      const std::string& folder, uint32_t uid,
                                      const std::string& destination) override {
    rec_->note("move");
    rec_->folder = folder;
    return imap::move_result{uid, destination, 77};
  }

  caf::result<imap::flag_result>
  flag(const mailbox_ref&, const std::string& folder, uint32_t uid,
       const imap::flag_change& change) override {
    rec_->note("flag");
    rec_->folder = folder;
    rec_->change = change;
    return imap::flag_result{uid, {"\\Seen"}, {}, {"\\Seen"}};
  }

  caf::result<sent_message> send(const mailbox_ref&,
                                 const mime::outgoing_message& m,
                                 const send_rules& rules) override {
    rec_->note("send");
    rec_->outgoing = m;
    rec_->send = rules;
    sent_message sent;
    sent.message_id = "<sent@example.test>";
    sent.sent_folder = "Sent";
    sent.sent_uid = 3;
    return sent;
  }

private:
  std::shared_ptr<recorder> rec_;
};

/// A MAIL ROUTER that never answers a page request: only the tool timeout
/// ends the call.
class silent_mail : public test::mail_fake {
public:
  caf::result<imap::message_page> messages(const mailbox_ref&,
                                           const std::string&,
                                           const imap::page_request&) override {
    return self->make_response_promise<imap::message_page>();
  }
};

/// A MAIL ROUTER that takes a listing and never answers, saying when it has
/// taken one.
class parked_mail : public test::mail_fake {
public:
  caf::result<imap::message_page> messages(const mailbox_ref&,
                                           const std::string&,
                                           const imap::page_request&) override {
    {
      std::lock_guard<std::mutex> guard{mtx};
      ++taken;
    }
    cv.notify_all();
    return self->make_response_promise<imap::message_page>();
  }

  bool wait_taken() {
    std::unique_lock<std::mutex> guard{mtx};
    return cv.wait_for(guard, answer_timeout, [&] { return taken > 0; });
  }

  std::mutex mtx;
  std::condition_variable cv;
  int taken = 0;
};

/// The DIRECTORY stand-in: keeps the audit log.
class recording_directory : public test::directory_fake {
public:
  explicit recording_directory(std::shared_ptr<recorder> rec) : rec_(rec) {
    // nop
  }

  void audit(const std::vector<audit_event>& events) override {
    {
      std::lock_guard<std::mutex> guard{rec_->mtx};
      rec_->audit.insert(rec_->audit.end(), events.begin(), events.end());
      ++rec_->audit_batches;
    }
    rec_->cv.notify_all();
  }

private:
  std::shared_ptr<recorder> rec_;
};

rapidjson::Document parse(const std::string& json) {
  rapidjson::Document d;
  d.Parse(json.c_str());
  EXPECT_FALSE(d.HasParseError()) << json;
  return d;
}

class mcp_endpoint_test : public test::lmdb_env, public ::testing::Test {
protected:
  mcp_endpoint_test() : lmdb_env("postern-mcp") {
    // nop
  }

  void SetUp() override {
    user_.value = "44444444-4444-4444-8444-444444444444";
    account_.value = "55555555-5555-4555-8555-555555555555";
    ASSERT_FALSE(env->write([&](storage::txn& t) -> caf::error {
      storage::user_record u;
      u.info.id = user_;
      u.info.username = "dana";
      t.put(storage::table::users, user_.value, storage::encode(u));
      account_settings acc;
      acc.id = account_;
      acc.owner = user_;
      acc.label = "Work";
      t.put(storage::table::accounts, storage::account_key(user_, account_),
            storage::encode(acc));
      return caf::none;
    }));
    cfg_.worker_threads(2);
    sys_ = std::make_unique<caf::actor_system>(cfg_);
    token_authority_options topts;
    topts.sweep_interval = 0s;
    tokens_ = spawn_token_authority(*sys_, env, topts);
    rec_ = std::make_shared<recorder>();
    mail_ = sys_->spawn(test::fake_mail,
                        std::make_shared<recording_mail>(rec_));
    directory_ = sys_->spawn(test::fake_directory,
                             std::make_shared<recording_directory>(rec_));
    // The stand-ins answer at once; a short timeout would only fail a test
    // on a slow machine (the timeout has its own test).
    use_endpoint(mail_, 30s);
  }

  /// Replaces the endpoint with one on `mail` (and `accounts`), no rate
  /// limit, and `timeout` as TOOL_TIMEOUT.
  void use_endpoint(mail_actor mail, std::chrono::seconds timeout,
                    std::shared_ptr<const account_index> accounts = {}) {
    mcp_settings s;
    s.base_url = "https://mail.example.com";
    s.tool_rate_limit = 0;
    s.tool_timeout = timeout;
    endpoint_ = std::make_shared<mcp_endpoint>(
      *sys_, mcp_actors{tokens_, mail, directory_, {}, std::move(accounts)},
      s);
  }

  void TearDown() override {
    endpoint_.reset();
    for (auto a : {caf::actor_cast<caf::actor>(tokens_),
                   caf::actor_cast<caf::actor>(mail_),
                   caf::actor_cast<caf::actor>(directory_)})
      caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
    sys_.reset();
  }

  std::string issue(scope_set scopes) {
    grant_request req;
    req.user = user_;
    req.accounts.ids = {account_};
    req.scopes = scopes;
    req.token_ttl = 3600;
    std::promise<std::string> p;
    auto f = p.get_future();
    sys_->spawn([&, req](caf::event_based_actor* self) {
      self->request(tokens_, answer_timeout, atom::issue_v, req)
        .then([&](issued_token& t) { p.set_value(t.token.reveal()); },
              [&](caf::error&) { p.set_value(""); });
    });
    return f.get();
  }

  response_type post(const std::string& body, const std::string& token,
                     const std::string& session = "") {
    request req;
    req.raw.method(bhttp::verb::post);
    req.raw.target("/mcp");
    req.raw.version(11);
    req.raw.set(bhttp::field::content_type, "application/json");
    req.raw.set(bhttp::field::authorization, "Bearer " + token);
    if (!session.empty())
      req.raw.set("Mcp-Session-Id", session);
    req.raw.body() = body;
    req.client_address = "192.0.2.7";
    auto p = std::make_shared<std::promise<response_type>>();
    auto f = p->get_future();
    endpoint_->post(
      req, responder{[p](response_type r) { p->set_value(std::move(r)); }});
    // Generous: a loaded CI machine with sanitizers must not make a slow
    // answer look like a missing one; a missing one fails, never hangs.
    if (f.wait_for(answer_timeout) != std::future_status::ready) {
      ADD_FAILURE() << "no response to " << body;
      return response_type{};
    }
    return f.get();
  }

  std::string initialize(const std::string& token) {
    auto r = post(
      R"({"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"unit","version":"1"}}})",
      token);
    EXPECT_EQ(r.result(), bhttp::status::ok) << r.body();
    return std::string{r["Mcp-Session-Id"]};
  }

  /// Calls a tool; returns the CallToolResult.
  rapidjson::Document call(const std::string& token, const std::string& session,
                           const std::string& tool, const std::string& args) {
    auto r = post(
      R"({"jsonrpc":"2.0","id":"c","method":"tools/call","params":{"name":")"
        + tool + R"(","arguments":)" + args + "}}",
      token, session);
    EXPECT_EQ(r.result(), bhttp::status::ok) << r.body();
    auto doc = parse(r.body());
    rapidjson::Document result;
    result.CopyFrom(doc["result"], result.GetAllocator());
    return result;
  }

  user_id user_;
  account_id account_;
  actor_config cfg_;
  std::unique_ptr<caf::actor_system> sys_;
  token_authority_actor tokens_;
  std::shared_ptr<recorder> rec_;
  mail_actor mail_;
  directory_actor directory_;
  std::shared_ptr<mcp_endpoint> endpoint_;
};

} // namespace

TEST_F(mcp_endpoint_test, tools_become_typed_mail_requests) {
  auto token = issue(every_scope);
  auto session = initialize(token);
  ASSERT_FALSE(session.empty());

  auto folders = call(token, session, "list_folders", "{}");
  EXPECT_FALSE(folders["isError"].GetBool());
  EXPECT_STREQ(folders["structuredContent"]["folders"][0]["path"].GetString(),
               "INBOX");
  EXPECT_EQ(rec_->ref.user, user_);
  EXPECT_EQ(rec_->ref.account, account_);

  auto listed = call(token, session, "list_messages",
                     R"({"folder":"Archive","page":3,"pageSize":7})");
  EXPECT_EQ(rec_->folder, "Archive");
  EXPECT_EQ(rec_->page.page, 3);
  EXPECT_EQ(rec_->page.page_size, 7);
  EXPECT_EQ(listed["structuredContent"]["messages"].Size(), 2u);
  EXPECT_FALSE(listed["structuredContent"]["messages"][0].HasMember("body"));

  // includeBody reads previews of the page in a second request.
  rec_->calls.clear();
  auto with_body = call(token, session, "list_messages",
                        R"({"includeBody":true})");
  EXPECT_EQ(rec_->calls, (std::vector<std::string>{"messages", "read"}));
  EXPECT_EQ(rec_->uids, (std::vector<uint32_t>{9, 8}));
  EXPECT_EQ(rec_->window.max_length, 2000u);
  EXPECT_STREQ(
    with_body["structuredContent"]["messages"][0]["body"].GetString(),
    "Body of 9");

  auto read = call(token, session, "read_message",
                   R"({"uids":[1,404],"offset":5,"maxLength":50})");
  EXPECT_EQ(rec_->uids, (std::vector<uint32_t>{1, 404}));
  EXPECT_EQ(rec_->window.offset, 5u);
  EXPECT_EQ(rec_->window.max_length, 50u);
  EXPECT_STREQ(read["structuredContent"]["messages"][1]["error"].GetString(),
               "There is no message with UID 404");

  auto missing = call(token, session, "read_message", R"({"uid":404})");
  EXPECT_TRUE(missing["isError"].GetBool());
  EXPECT_STREQ(missing["content"][0]["text"].GetString(),
               "There is no message with UID 404");

  call(
    token, session, "search_messages",
    R"({"query":"q","from":"f","since":"2026-01-01","unseen":true,"limit":3})");
  EXPECT_EQ(rec_->folder, "INBOX");
  EXPECT_EQ(rec_->query.query, "q");
  EXPECT_EQ(rec_->query.from, "f");
  EXPECT_EQ(rec_->query.since, "2026-01-01");
  EXPECT_TRUE(rec_->query.unseen);
  EXPECT_EQ(rec_->query.limit, 3);

  auto moved = call(token, session, "move_message",
                    R"({"folder":"INBOX","uid":4,"destination":"Trash"})");
  EXPECT_EQ(moved["structuredContent"]["newUid"].GetInt(), 77);

  call(token, session, "flag_message",
       R"({"uid":4,"seen":true,"deleted":false})");
  EXPECT_EQ(rec_->change.seen, imap::flag_action::add);
  EXPECT_EQ(rec_->change.deleted, imap::flag_action::remove);
  EXPECT_EQ(rec_->change.flagged, imap::flag_action::keep);

  auto sent = call(
    token, session, "send_mail",
    R"({"to":"bob@example.test","subject":"Hi","body":"Hello","cc":"c@example.test"})");
  EXPECT_STREQ(sent["structuredContent"]["messageId"].GetString(),
               "<sent@example.test>");
  ASSERT_EQ(rec_->outgoing.to.size(), 1u);
  EXPECT_EQ(rec_->outgoing.to[0].address, "bob@example.test");
  EXPECT_EQ(rec_->outgoing.cc[0].address, "c@example.test");
}

TEST_F(mcp_endpoint_test, mail_errors_and_timeouts_are_tool_errors) {
  auto token = issue(bit(scope::read));
  auto session = initialize(token);
  auto nope = call(token, session, "list_messages", R"({"folder":"Nope"})");
  EXPECT_TRUE(nope["isError"].GetBool());
  EXPECT_STREQ(nope["content"][0]["text"].GetString(),
               "The folder \"Nope\" does not exist");
  // A mail router that never answers: the tool timeout (1 s here) ends it.
  auto silent = sys_->spawn(test::fake_mail, std::make_shared<silent_mail>());
  mcp_settings s;
  s.base_url = "https://mail.example.com";
  s.tool_timeout = 1s;
  endpoint_ = std::make_shared<mcp_endpoint>(
    *sys_, mcp_actors{tokens_, silent, directory_, {}, {}}, s);
  session = initialize(token);
  auto slow = call(token, session, "list_messages", "{}");
  EXPECT_TRUE(slow["isError"].GetBool());
  EXPECT_STREQ(slow["content"][0]["text"].GetString(),
               "The mail server did not answer within 1 second; try again "
               "later.");
  caf::anon_send_exit(silent, caf::exit_reason::user_shutdown);
}

TEST_F(mcp_endpoint_test, a_waiting_call_is_answered_when_the_mail_service_stops) {
  // No request of a call carries a timer of its own: when the mail
  // service ends with a call still waiting on it, the CALL WATCHER ends
  // the call, which answers at once (and the server can stop).
  auto parked = std::make_shared<parked_mail>();
  auto mail = sys_->spawn(test::fake_mail, parked);
  use_endpoint(mail, 600s); // far beyond answer_timeout: only the stop ends it
  auto token = issue(bit(scope::read));
  auto session = initialize(token);
  auto waiting = std::async(std::launch::async, [&] {
    return call(token, session, "list_messages", "{}");
  });
  ASSERT_TRUE(parked->wait_taken());
  caf::anon_send_exit(mail, caf::exit_reason::user_shutdown);
  auto stopped = waiting.get();
  EXPECT_TRUE(stopped["isError"].GetBool());
  EXPECT_STREQ(stopped["content"][0]["text"].GetString(),
               "The mail service is restarting; try again in a moment.");
}

TEST_F(mcp_endpoint_test, calls_go_to_the_running_account_else_the_router) {
  // The ACCOUNT the index names answers the call, and the router sees
  // nothing; once that ACCOUNT has ended, the same call goes to the router
  // (which starts a new one) and succeeds.
  auto account_rec = std::make_shared<recorder>();
  auto account = sys_->spawn(test::fake_mail,
                             std::make_shared<recording_mail>(account_rec));
  auto index = std::make_shared<account_index>();
  index->put(account_index::key_of(mailbox_ref{user_, account_}),
             caf::actor_cast<mailbox_operations_actor>(account));
  use_endpoint(mail_, 30s, index);
  auto token = issue(bit(scope::read) | bit(scope::folders));
  auto session = initialize(token);

  auto listed = call(token, session, "list_messages", R"({"includeBody":true})");
  EXPECT_FALSE(listed["isError"].GetBool());
  EXPECT_EQ(account_rec->calls, (std::vector<std::string>{"messages", "read"}));
  EXPECT_TRUE(rec_->calls.empty());

  // The ACCOUNT ends (idle, forgotten) before the router has dropped it
  // from the index.
  auto watcher = caf::scoped_actor{*sys_};
  watcher->monitor(account);
  caf::anon_send_exit(account, caf::exit_reason::user_shutdown);
  watcher->receive([](const caf::down_msg&) {});
  auto again = call(token, session, "list_folders", "{}");
  EXPECT_FALSE(again["isError"].GetBool()) << again["content"][0]["text"].GetString();
  EXPECT_EQ(rec_->calls, (std::vector<std::string>{"folders"}));
  EXPECT_EQ(account_rec->calls.size(), 2u);
}

TEST_F(mcp_endpoint_test, every_tool_call_is_audited_without_contents) {
  auto token = issue(bit(scope::read) | bit(scope::folders));
  auto session = initialize(token);
  call(token, session, "list_messages", "{}");
  call(token, session, "list_messages", R"({"pageSize":500})");
  call(token, session, "list_messages", R"({"folder":"Nope"})");
  auto r = post(
    R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"send_mail","arguments":{}}})",
    token, session);
  EXPECT_EQ(r.result(), bhttp::status::forbidden);
  auto events = rec_->wait_audit(4);
  ASSERT_EQ(events.size(), 4u);
  {
    std::lock_guard<std::mutex> guard{rec_->mtx};
    EXPECT_GE(rec_->audit_batches, 1u);
    EXPECT_LE(rec_->audit_batches, 4u);
  }
  // Audits are sent as calls finish; order by outcome text.
  std::vector<std::string> outcomes;
  for (auto& e : events) {
    EXPECT_EQ(e.user, user_);
    EXPECT_EQ(e.actor, "admin-token");
    EXPECT_EQ(e.address, "192.0.2.7");
    EXPECT_NE(e.target.find(account_.value), std::string::npos);
    EXPECT_EQ(e.target.find("Secret"), std::string::npos);
    EXPECT_EQ(e.outcome.find("Secret"), std::string::npos);
    EXPECT_GT(e.time_ms, 0);
    outcomes.push_back(e.action + " "
                       + e.outcome.substr(0, e.outcome.find(" (")));
    EXPECT_NE(e.outcome.find(" ms)"), std::string::npos) << e.outcome;
  }
  std::sort(outcomes.begin(), outcomes.end());
  EXPECT_EQ(outcomes,
            (std::vector<std::string>{"tool.list_messages invalid_arguments",
                                      "tool.list_messages no_such_folder",
                                      "tool.list_messages ok",
                                      "tool.send_mail insufficient_scope"}));
}

TEST_F(mcp_endpoint_test, tokens_of_other_resources_are_refused) {
  grant_request req;
  req.user = user_;
  req.accounts.ids = {account_};
  req.scopes = every_scope;
  req.token_ttl = 3600;
  req.origin = grant_origin::oauth;
  req.client_id = "c";
  req.resource = "https://other.example.com/mcp";
  std::promise<std::string> p;
  auto f = p.get_future();
  sys_->spawn([&](caf::event_based_actor* self) {
    self->request(tokens_, answer_timeout, atom::issue_v, req)
      .then([&](issued_token& t) { p.set_value(t.token.reveal()); },
            [&](caf::error&) { p.set_value(""); });
  });
  auto token = f.get();
  auto r = post(R"({"jsonrpc":"2.0","id":1,"method":"ping"})", token);
  EXPECT_EQ(r.result(), bhttp::status::unauthorized);
  EXPECT_NE(std::string{r[bhttp::field::www_authenticate]}.find(
              "The access token was issued for another resource."),
            std::string::npos);
}

// -- session table, rate limiter, helpers
// -----------------------------------------

TEST(mcp_sessions, sessions_belong_to_their_grant_and_expire) {
  mcp_session_table t{60s, 2};
  auto now = std::chrono::steady_clock::now();
  auto a = *t.create("u/g1", "2025-11-25", "x", now);
  EXPECT_TRUE(t.touch(a, "u/g1", now + 30s));
  EXPECT_FALSE(t.touch(a, "u/g2", now + 30s)); // another grant: unknown
  EXPECT_FALSE(t.remove(a, "u/g2"));
  EXPECT_TRUE(t.touch(a, "u/g1", now + 89s)); // idle timer was refreshed
  EXPECT_FALSE(t.touch(a, "u/g1", now + 150s));
  EXPECT_EQ(t.size(), 0u);
  // The cap per grant ends the least recently used session.
  auto s1 = *t.create("u/g1", "v", "", now);
  auto s2 = *t.create("u/g1", "v", "", now + 1s);
  t.touch(s1, "u/g1", now + 2s);
  auto s3 = *t.create("u/g1", "v", "", now + 3s);
  EXPECT_TRUE(t.touch(s1, "u/g1", now + 4s));
  EXPECT_FALSE(t.touch(s2, "u/g1", now + 4s));
  EXPECT_TRUE(t.touch(s3, "u/g1", now + 4s));
  auto other = *t.create("u/g2", "v", "", now);
  EXPECT_EQ(t.remove_grant("u/g1"), 2u);
  EXPECT_TRUE(t.touch(other, "u/g2", now + 5s));
  t.purge(now + 1h);
  EXPECT_EQ(t.size(), 0u);
}

TEST(mcp_sessions, the_table_is_bounded) {
  mcp_session_table t{3600s, 1000, 32}; // 2 per shard
  size_t created = 0;
  for (int i = 0; i < 1000; ++i)
    if (t.create("u/g" + std::to_string(i), "v", ""))
      ++created;
  EXPECT_LE(t.size(), 32u);
  EXPECT_EQ(created, t.size());
}

TEST(mcp_sessions, each_user_has_a_quota_and_nobody_is_evicted_for_it) {
  mcp_session_table t{3600s, 1, 100000, 3};
  auto now = std::chrono::steady_clock::now();
  auto why = mcp_session_table::refusal::none;
  auto a = *t.create("alice/g1", "v", "", now);
  auto b = *t.create("alice/g2", "v", "", now);
  auto c = *t.create("alice/g3", "v", "", now);
  // A fourth grant of the same user is refused; her sessions live on.
  EXPECT_FALSE(t.create("alice/g4", "v", "", now, &why));
  EXPECT_EQ(why, mcp_session_table::refusal::user_full);
  using live = std::vector<std::pair<std::string, std::string>>;
  for (auto& [id, g] : live{{a, "alice/g1"}, {b, "alice/g2"}, {c, "alice/g3"}})
    EXPECT_TRUE(t.touch(id, g, now + 1s)) << g;
  // Her own grant at its cap replaces its own oldest session: still 3.
  auto a2 = t.create("alice/g1", "v", "", now + 2s, &why);
  EXPECT_TRUE(a2);
  EXPECT_EQ(why, mcp_session_table::refusal::none);
  EXPECT_EQ(t.size(), 3u);
  EXPECT_FALSE(t.touch(a, "alice/g1", now + 2s));
  // Another user is unaffected.
  EXPECT_TRUE(t.create("bob/g1", "v", "", now));
  // Ending one of hers makes room again.
  EXPECT_TRUE(t.remove(b, "alice/g2"));
  EXPECT_TRUE(t.create("alice/g4", "v", "", now + 3s));
  EXPECT_FALSE(t.create("alice/g5", "v", "", now + 3s));
  // Idle sessions expire and give the quota back.
  t.purge(now + 2h);
  EXPECT_EQ(t.size(), 0u);
  EXPECT_TRUE(t.create("alice/g5", "v", "", now + 2h));
}

TEST(rate_limiter, allows_bursts_then_says_when_to_retry) {
  rate_limiter off{0};
  for (int i = 0; i < 1000; ++i)
    EXPECT_TRUE(off.acquire("g").allowed);
  rate_limiter lim{6}; // one every 10 s, bursts of 6
  auto now = std::chrono::steady_clock::now();
  for (int i = 0; i < 6; ++i)
    EXPECT_TRUE(lim.acquire("g", now).allowed);
  auto v = lim.acquire("g", now);
  EXPECT_FALSE(v.allowed);
  EXPECT_EQ(v.retry_after, 10);
  EXPECT_TRUE(v.first_refusal);
  auto again = lim.acquire("g", now + 1s);
  EXPECT_FALSE(again.allowed);
  EXPECT_FALSE(again.first_refusal);
  EXPECT_EQ(again.retry_after, 9);
  EXPECT_TRUE(lim.acquire("other", now).allowed);
  EXPECT_TRUE(lim.acquire("g", now + 11s).allowed);
  EXPECT_FALSE(lim.acquire("g", now + 11s).allowed);
}

TEST(mcp_http, origins_and_bearer_tokens) {
  EXPECT_EQ(normalize_origin("https://Mail.Example.com:443/base/"),
            "https://mail.example.com");
  EXPECT_EQ(normalize_origin("http://localhost:3000"), "http://localhost:3000");
  EXPECT_EQ(normalize_origin("http://h:80"), "http://h");
  EXPECT_EQ(normalize_origin("null"), "");
  EXPECT_EQ(normalize_origin("file:///x"), "");
  EXPECT_EQ(normalize_origin("http://user@evil"), "");
  bool malformed = false;
  EXPECT_EQ(bearer_token("Bearer abc-_.~+/==", malformed), "abc-_.~+/==");
  EXPECT_FALSE(malformed);
  EXPECT_EQ(bearer_token("  bEaReR   tok  ", malformed), "tok");
  EXPECT_EQ(bearer_token("Basic abc", malformed), "");
  EXPECT_FALSE(malformed);
  EXPECT_EQ(bearer_token("Bearer", malformed), "");
  EXPECT_EQ(bearer_token("Bearer a=b", malformed), "");
  EXPECT_TRUE(malformed);
  EXPECT_EQ(bearer_token("Bearer " + std::string(600, 'a'), malformed), "");
  EXPECT_TRUE(malformed);
  mcp_settings s;
  s.base_url = "https://host.example/postern";
  EXPECT_EQ(s.resource(), "https://host.example/postern/mcp");
  EXPECT_EQ(
    s.resource_metadata(),
    "https://host.example/.well-known/oauth-protected-resource/postern/mcp");
  s.base_url = "http://localhost:3000";
  EXPECT_EQ(s.resource_metadata(),
            "http://localhost:3000/.well-known/oauth-protected-resource/mcp");
  EXPECT_TRUE(supported_mcp_version("2025-03-26"));
  EXPECT_FALSE(supported_mcp_version("2024-11-05"));
}
