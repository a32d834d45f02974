// SPDX-License-Identifier: Apache-2.0
// The ACCOUNT: its pool of IMAP connections (queue, permits, back-off after
// failures, idle reaping) and its behavior. Sending and composing are in
// account_send.cpp.
#include "postern/actors/account.hpp"

#include "account_internal.hpp"
#include "postern/actors/imap_connection.hpp"
#include "postern/error.hpp"
#include "postern/log.hpp"

#include <caf/result.hpp>
#include <caf/sec.hpp>
#include <caf/send.hpp>

#include <algorithm>
#include <functional>

namespace postern {

namespace {

using namespace std::chrono_literals;

using detail::account_self;
using detail::helper_timeout;
using detail::on_connection;

/// Waiting longer than this between reconnect attempts would only hide a
/// server that came back.
constexpr auto max_backoff = 60s;

std::chrono::seconds backoff(int failures) {
  auto secs = std::chrono::seconds(1) * (1 << std::min(failures, 6));
  return std::min<std::chrono::seconds>(secs, max_backoff);
}

} // namespace

bool is_connection_error(const caf::error& err) {
  if (err.category() == caf::atom("system"))
    return true; // request timeout, receiver down
  if (err.category() != caf::atom("postern"))
    return false;
  switch (static_cast<ec>(err.code())) {
    case ec::authentication_failed:
    case ec::connection_failed:
    case ec::timed_out:
    case ec::tls_failure:
    case ec::protocol_violation:
    case ec::cancelled:
    case ec::forbidden:
      return true;
    default:
      return false;
  }
}

// -- state --------------------------------------------------------------------

void account_state::submit(pending_request req) {
  auto now = clock::now();
  last_activity = now;
  if (login_failure && now < login_failure_until) {
    req.fail(login_failure);
    return;
  }
  login_failure = caf::error{};
  if (connect_failure && pool.empty() && now < retry_at) {
    req.fail(connect_failure);
    return;
  }
  if (queue.size() >= opts.max_queue) {
    req.fail(caf::make_error(ec::too_busy,
                             "too many requests are waiting for this "
                             "mailbox; try again in a few seconds"));
    return;
  }
  queue.push_back(std::move(req));
  pump();
  // Still waiting (pump runs the queue from its front, so the back is this
  // request): watch the caller, to drop the request if it goes away first.
  if (!queue.empty() && queue.back().requester && !queue.back().watched) {
    // One monitor per caller, however many of its requests wait:
    // demonitor (in pump) removes all monitors of an actor at once.
    if (!watching(queue.back().requester))
      self->monitor(queue.back().requester);
    queue.back().watched = true;
    POSTERN_DEBUG("account {}: a request waits for a connection ({} waiting)",
                  ref.account.value, queue.size());
  }
}

bool account_state::watching(const caf::actor_addr& requester) const {
  return std::any_of(queue.begin(), queue.end(), [&](const pending_request& r) {
    return r.watched && r.requester == requester;
  });
}

size_t account_state::abandon(const caf::actor_addr& requester) {
  auto gone = std::stable_partition(queue.begin(), queue.end(),
                                    [&](const pending_request& r) {
                                      return r.requester != requester;
                                    });
  auto count = static_cast<size_t>(std::distance(gone, queue.end()));
  std::vector<pending_request> dropped;
  std::move(gone, queue.end(), std::back_inserter(dropped));
  queue.erase(gone, queue.end());
  for (auto& r : dropped)
    r.fail(caf::make_error(ec::cancelled, "the call was cancelled"));
  return count;
}

void account_state::on_down(const caf::down_msg& msg) {
  if (msg.source == router.address()) {
    self->quit(caf::exit_reason::user_shutdown);
    return;
  }
  auto i = std::find_if(pool.begin(), pool.end(), [&](const auto& s) {
    return s.hdl.address() == msg.source;
  });
  if (i != pool.end()) {
    drop(i->id);
    pump();
    return;
  }
  if (auto n = abandon(msg.source); n > 0)
    POSTERN_DEBUG("account {}: {} waiting request(s) abandoned, their "
                  "caller went away",
                  ref.account.value, n);
}

void account_state::pump() {
  while (!queue.empty()) {
    auto idle = std::find_if(pool.begin(), pool.end(),
                             [](const connection_slot& s) { return !s.busy; });
    if (idle == pool.end())
      break;
    idle->busy = true;
    idle->last_used = clock::now();
    auto req = std::move(queue.front());
    queue.pop_front();
    if (req.watched && !watching(req.requester))
      self->demonitor(req.requester);
    req.run(idle->id, idle->hdl);
  }
  // One new connection per waiting request, up to the pool size.
  while (queue.size() > opening && pool.size() + opening < opts.pool_size)
    open_connection();
}

void account_state::fail_queue(const caf::error& err) {
  auto waiting = std::move(queue);
  queue.clear();
  for (auto& req : waiting)
    req.fail(err);
}

void account_state::drop(uint64_t slot_id) {
  auto i
    = std::find_if(pool.begin(), pool.end(),
                   [&](const connection_slot& s) { return s.id == slot_id; });
  if (i == pool.end())
    return;
  // A stuck call returns at once; then the actor ends.
  i->cancel->cancel();
  self->send_exit(i->hdl, caf::exit_reason::user_shutdown);
  auto& l = *live;
  l.erase(std::remove_if(l.begin(), l.end(),
                         [&](const auto& p) { return p.first == i->hdl; }),
          l.end());
  pool.erase(i);
  self->send(router, atom::release_v, ref.user);
}

void account_state::finish(uint64_t slot_id, const caf::error& err) {
  auto now = clock::now();
  auto i
    = std::find_if(pool.begin(), pool.end(),
                   [&](const connection_slot& s) { return s.id == slot_id; });
  if (i != pool.end()) {
    i->busy = false;
    i->last_used = now;
    if (!err) {
      i->proven = true;
      consecutive_failures = 0;
      connect_failure = caf::error{};
    } else if (is_connection_error(err)) {
      auto proven = i->proven;
      drop(slot_id);
      if (err == ec::authentication_failed) {
        // Report a wrong password at once for a while instead of making
        // the server refuse (and maybe lock) the login again and again.
        login_failure = err;
        login_failure_until = now + opts.login_failure_cache;
        fail_queue(err);
      } else if (!proven) {
        ++consecutive_failures;
        connect_failure = err;
        retry_at = now + backoff(consecutive_failures);
        if (pool.empty())
          fail_queue(err);
      }
    }
  }
  pump();
}

void account_state::open_connection() {
  ++opening;
  auto st = this;
  self->request(router, helper_timeout, atom::acquire_v, ref.user)
    .then([st](atom::ok) { st->on_permit(); },
          [st](caf::error& err) { st->open_failed(err, false); });
}

void account_state::on_permit() {
  auto st = this;
  self->request(directory, helper_timeout, atom::get_v, ref.user, ref.account)
    .then(
      [st](account_settings& settings) {
        st->on_settings(std::move(settings));
      },
      [st](caf::error& err) { st->open_failed(err, true); });
}

void account_state::on_settings(account_settings settings) {
  auto st = this;
  oauth = uses_oauth(settings);
  if (oauth) {
    // The provider's access token, in memory or refreshed, is the
    // "password" of AUTHENTICATE XOAUTH2 / OAUTHBEARER.
    with_access_token(settings, [st, settings](caf::expected<secret> token) {
      if (!token)
        return st->open_failed(token.error(), true);
      account_credentials creds;
      creds.imap_password = std::move(*token);
      st->start_connection(settings, creds);
    });
    return;
  }
  self->request(vault, helper_timeout, atom::get_v, ref.user, ref.account)
    .then(
      [st, settings](account_credentials& creds) {
        st->start_connection(settings, creds);
      },
      [st](caf::error& err) { st->open_failed(err, true); });
}

void account_state::start_connection(const account_settings& settings,
                                     account_credentials& creds) {
  imap::session_options so;
  so.ca_file = settings.ca_file;
  so.timeout = opts.timeout;
  so.operation_timeout = opts.operation_timeout;
  so.hosts = opts.hosts;
  so.cache = opts.cache;
  so.cache_account = ref.user.value + "/" + ref.account.value;
  so.budget = opts.imap_budget;
  so.account_label = settings.label;
  if (oauth) {
    auto* p = opts.providers ? opts.providers->find(settings.oauth_provider)
                             : nullptr;
    so.sasl = p != nullptr ? p->sasl : sasl_mechanism::xoauth2;
  }
  auto session = std::make_shared<imap::session>(so);
  auto cancel = session->cancel_handle();
  auto hdl = opts.connect
               ? opts.connect(self, session, settings.imap,
                              std::move(creds.imap_password))
               : self->spawn<caf::detached>(imap_connection, session,
                                            settings.imap,
                                            std::move(creds.imap_password));
  creds.smtp_password.wipe();
  self->monitor(hdl);
  live->emplace_back(hdl, cancel);
  connection_slot slot;
  slot.id = next_slot++;
  slot.hdl = hdl;
  slot.cancel = cancel;
  slot.last_used = clock::now();
  pool.push_back(std::move(slot));
  --opening;
  pump();
}

void account_state::open_failed(const caf::error& err, bool permit_held) {
  --opening;
  if (permit_held)
    self->send(router, atom::release_v, ref.user);
  // Without any connection the queued requests cannot run.
  if (pool.empty() && opening == 0)
    fail_queue(err);
}

caf::error account_state::admit_send() {
  if (opts.sends_per_minute == 0)
    return caf::none;
  auto now = clock::now();
  while (!recent_sends.empty() && now - recent_sends.front() >= 60s)
    recent_sends.pop_front();
  if (recent_sends.size() >= opts.sends_per_minute) {
    auto wait = std::chrono::ceil<std::chrono::seconds>(recent_sends.front()
                                                        + 60s - now)
                  .count();
    wait = std::max<decltype(wait)>(wait, 1);
    POSTERN_INFO("account {}/{}: send rate limit reached", ref.user.value,
                 ref.account.value);
    return caf::make_error(
      ec::send_rate_limited,
      "This account may send " + std::to_string(opts.sends_per_minute)
        + " messages per minute and has reached that; try again in "
        + std::to_string(wait) + (wait == 1 ? " second" : " seconds"));
  }
  recent_sends.push_back(now);
  return caf::none;
}

bool account_state::reap() {
  auto now = clock::now();
  std::vector<uint64_t> idle;
  std::vector<uint64_t> stuck;
  for (auto& s : pool)
    if (!s.busy && now - s.last_used >= opts.idle)
      idle.push_back(s.id);
    else if (s.busy
             && now - s.last_used >= opts.operation_timeout + opts.stuck_grace)
      stuck.push_back(s.id);
  for (auto id : idle)
    drop(id);
  // Dropping ends the connection, which answers (or bounces) the request
  // it holds, so its caller hears back and the permit is returned.
  for (auto id : stuck) {
    POSTERN_WARN("account {}: a mail connection was busy past its operation "
                 "timeout and is closed",
                 ref.account.value);
    drop(id);
  }
  if (!stuck.empty())
    pump();
  return pool.empty() && queue.empty() && opening == 0
         && now - last_activity >= opts.idle;
}

// -- behavior -----------------------------------------------------------------

namespace {

/// How often the ACCOUNT looks for idle connections: often enough to close
/// them near `idle`, at least once a second and at most every 30 seconds.
std::chrono::seconds tick_interval(const mail_options& opts) {
  return std::max<std::chrono::seconds>(
    1s, std::min<std::chrono::seconds>(opts.idle / 2, 30s));
}

/// Takes over the peers and options, and makes the connections end with the
/// ACCOUNT.
void set_up(account_self self, mailbox_ref ref, directory_actor directory,
            vault_actor vault, mail_router_actor router, mail_options opts) {
  auto& st = self->state;
  st.self = self;
  st.ref = std::move(ref);
  st.directory = std::move(directory);
  st.vault = std::move(vault);
  st.router = std::move(router);
  st.opts = std::move(opts);
  // When the ACCOUNT ends for any reason, its connections end too, even
  // those blocked on a stalled server.
  self->attach_functor([live = st.live] {
    for (auto& [hdl, cancel] : *live) {
      cancel->cancel();
      caf::anon_send_exit(hdl, caf::exit_reason::user_shutdown);
    }
  });
  self->set_down_handler(
    [self](const caf::down_msg& msg) { self->state.on_down(msg); });
  // The MAIL ROUTER monitors its ACCOUNTs instead of linking them (one
  // ACCOUNT's failure must not end the router and every other mailbox);
  // this ACCOUNT ends when the router does.
  self->monitor(self->state.router);
  self->delayed_send(self, tick_interval(self->state.opts), atom::tick_v);
}

/// Closes idle connections and ends the ACCOUNT once it is idle itself;
/// otherwise sets the timer again.
void on_tick(account_self self) {
  if (self->state.reap()) {
    self->quit(caf::exit_reason::normal);
    return;
  }
  self->delayed_send(self, tick_interval(self->state.opts), atom::tick_v);
}

} // namespace

account_actor::behavior_type
account(account_self self, mailbox_ref ref, directory_actor directory,
        vault_actor vault, mail_router_actor router, mail_options opts) {
  set_up(self, std::move(ref), std::move(directory), std::move(vault),
         std::move(router), std::move(opts));
  // The mailbox named in each message is this ACCOUNT's own (the MAIL
  // ROUTER chose it by that name). Each operation runs on a pooled
  // connection (on_connection), sending and composing in account_send.cpp.
  return {
    [=](atom::folders op, const mailbox_ref&, bool with_counts) {
      return on_connection(self, op, with_counts);
    },
    [=](atom::messages op, const mailbox_ref&, const std::string& folder,
        const imap::page_request& req) {
      return on_connection(self, op, folder, req);
    },
    [=](atom::read op, const mailbox_ref&, const std::string& folder,
        const std::vector<uint32_t>& uids, const imap::read_options& options) {
      return on_connection(self, op, folder, uids, options);
    },
    [=](atom::search op, const mailbox_ref&, const std::string& folder,
        const imap::search_query& query) {
      return on_connection(self, op, folder, query);
    },
    [=](atom::move op, const mailbox_ref&, const std::string& folder,
        uint32_t uid, const std::string& destination) {
      return on_connection(self, op, folder, uid, destination);
    },
    [=](atom::flag op, const mailbox_ref&, const std::string& folder,
        uint32_t uid, const imap::flag_change& change) {
      return on_connection(self, op, folder, uid, change);
    },
    [=](atom::send, const mailbox_ref&, const mime::outgoing_message& msg,
        const send_rules& rules) {
      return detail::send_message(self, msg, rules);
    },
    [=](atom::deliver, const mailbox_ref&, const mime::built_message& built) {
      return detail::deliver_message(self, built);
    },
    [=](atom::attachment op, const mailbox_ref&, const std::string& folder,
        uint32_t uid, const std::string& part_id) {
      return on_connection(self, op, folder, uid, part_id,
                           self->state.opts.attachment_limits);
    },
    [=](atom::download, const mailbox_ref&, const std::string& folder,
        uint32_t uid, const std::string& part_id,
        const mime::attachment_limits& limits) {
      return on_connection(self, atom::attachment_v, folder, uid, part_id,
                           limits);
    },
    [=](atom::compose, const mailbox_ref&, const mime::compose_request& request,
        const send_rules& rules) {
      return detail::compose_message(self, request, rules);
    },
    [=](atom::thread op, const mailbox_ref&, const std::string& folder,
        uint32_t uid) { return on_connection(self, op, folder, uid); },
    [=](atom::bulk op, const mailbox_ref&, const imap::bulk_request& req) {
      return on_connection(self, op, req);
    },
    [=](atom::folder_op op, const mailbox_ref&,
        const imap::folder_change& change) {
      return on_connection(self, op, change);
    },
    [=](atom::search_all op, const mailbox_ref&,
        const imap::search_query& query) {
      return on_connection(self, op, query);
    },
    [=](atom::signin, const mailbox_ref&) {
      auto rp = self->make_response_promise<secret>();
      auto st = &self->state;
      self->state.last_activity = account_state::clock::now();
      self
        ->request(st->directory, helper_timeout, atom::get_v, st->ref.user,
                  st->ref.account)
        .then(
          [st, rp](const account_settings& settings) mutable {
            if (!uses_oauth(settings)) {
              rp.deliver(caf::make_error(ec::invalid_argument,
                                         "this account signs in with a "
                                         "password"));
              return;
            }
            st->oauth = true;
            st->with_access_token(settings, detail::deliver_to(rp));
          },
          [rp](caf::error& err) mutable { rp.deliver(std::move(err)); });
      return rp;
    },
    [=](atom::tick) { on_tick(self); },
  };
}

} // namespace postern
