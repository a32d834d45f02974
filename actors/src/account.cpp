// SPDX-License-Identifier: Apache-2.0
#include "postern/actors/account.hpp"

#include "postern/actors/imap_connection.hpp"
#include "postern/error.hpp"
#include "postern/log.hpp"
#include "postern/mime/message_builder.hpp"

#include <caf/result.hpp>
#include <caf/sec.hpp>
#include <caf/send.hpp>
#include <caf/typed_response_promise.hpp>

#include <algorithm>

namespace postern {

namespace {

using namespace std::chrono_literals;

/// How long the ACCOUNT waits for the DIRECTORY, VAULT or MAIL ROUTER.
constexpr auto helper_timeout = 30s;

/// Waiting longer than this between reconnect attempts would only hide a
/// server that came back.
constexpr auto max_backoff = 60s;

std::chrono::seconds backoff(int failures) {
  auto secs = std::chrono::seconds(1) * (1 << std::min(failures, 6));
  return std::min<std::chrono::seconds>(secs, max_backoff);
}

/// The sender address of an account: the first login name that is an email
/// address.
std::string sender_address(const account_settings& s) {
  if (s.has_smtp && s.smtp.username.find('@') != std::string::npos)
    return s.smtp.username;
  if (s.imap.username.find('@') != std::string::npos)
    return s.imap.username;
  return {};
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
  auto i = std::find_if(pool.begin(), pool.end(),
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
  auto i = std::find_if(pool.begin(), pool.end(),
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
  auto fail = [st](const caf::error& err, bool permit_held) {
    --st->opening;
    if (permit_held)
      st->self->send(st->router, atom::release_v, st->ref.user);
    // Without any connection the queued requests cannot run.
    if (st->pool.empty() && st->opening == 0)
      st->fail_queue(err);
  };
  self->request(router, helper_timeout, atom::acquire_v, ref.user)
    .then(
      [st, fail](atom::ok) {
        st->self
          ->request(st->directory, helper_timeout, atom::get_v, st->ref.user,
                    st->ref.account)
          .then(
            [st, fail](account_settings& settings) {
              st->self
                ->request(st->vault, helper_timeout, atom::get_v, st->ref.user,
                          st->ref.account)
                .then(
                  [st, settings](account_credentials& creds) mutable {
                    imap::session_options so;
                    so.ca_file = settings.ca_file;
                    so.timeout = st->opts.timeout;
                    so.operation_timeout = st->opts.operation_timeout;
                    so.cache = st->opts.cache;
                    so.cache_account = st->ref.user.value + "/"
                                       + st->ref.account.value;
                    auto session = std::make_shared<imap::session>(so);
                    auto cancel = session->cancel_handle();
                    auto hdl = st->self->spawn<caf::detached>(
                      imap_connection, session, settings.imap,
                      std::move(creds.imap_password), st->opts.hosts);
                    creds.smtp_password.wipe();
                    st->self->monitor(hdl);
                    st->live->emplace_back(hdl, cancel);
                    connection_slot slot;
                    slot.id = st->next_slot++;
                    slot.hdl = hdl;
                    slot.cancel = cancel;
                    slot.last_used = clock::now();
                    st->pool.push_back(std::move(slot));
                    --st->opening;
                    st->pump();
                  },
                  [fail](caf::error& err) { fail(err, true); });
            },
            [fail](caf::error& err) { fail(err, true); });
      },
      [fail](caf::error& err) { fail(err, false); });
}

bool account_state::reap() {
  auto now = clock::now();
  std::vector<uint64_t> idle;
  for (auto& s : pool)
    if (!s.busy && now - s.last_used >= opts.idle)
      idle.push_back(s.id);
  for (auto id : idle)
    drop(id);
  return pool.empty() && queue.empty() && opening == 0
         && now - last_activity >= opts.idle;
}

// -- behavior -----------------------------------------------------------------

namespace {

/// Runs one operation on a pooled connection and answers with its result.
template <class T, class... Ts>
caf::result<T> on_connection(account_actor::stateful_pointer<account_state> self,
                             Ts... xs) {
  auto rp = self->make_response_promise<T>();
  pending_request req;
  auto timeout = self->state.opts.operation_timeout + 10s;
  req.run = [self, rp, timeout, xs...](uint64_t slot,
                                       const imap_connection_actor& c) mutable {
    self->request(c, timeout, xs...)
      .then(
        [self, rp, slot](T& value) mutable {
          rp.deliver(std::move(value));
          self->state.finish(slot, caf::error{});
        },
        [self, rp, slot](caf::error& err) mutable {
          rp.deliver(err);
          self->state.finish(slot, err);
        });
  };
  req.fail = [rp](const caf::error& err) mutable { rp.deliver(err); };
  self->state.submit(std::move(req));
  return rp;
}

/// Sends through the account's SMTP server, then saves a copy to Sent.
void send_mail(account_actor::stateful_pointer<account_state> self,
               mime::outgoing_message msg,
               caf::typed_response_promise<sent_message> rp) {
  auto& st = self->state;
  st.last_activity = account_state::clock::now();
  self->request(st.directory, helper_timeout, atom::get_v, st.ref.user,
                st.ref.account)
    .then(
      [self, msg, rp](account_settings& settings) mutable {
        if (!settings.has_smtp) {
          rp.deliver(caf::make_error(ec::not_supported,
                                     "this account has no SMTP server "
                                     "configured, so it cannot send mail"));
          return;
        }
        if (msg.from.address.empty()) {
          msg.from.address = sender_address(settings);
          if (msg.from.address.empty()) {
            rp.deliver(caf::make_error(
              ec::invalid_argument,
              "the account's login name is not an email address, so the "
              "sender is unknown"));
            return;
          }
        }
        auto built = mime::build_message(msg);
        if (!built) {
          rp.deliver(built.error());
          return;
        }
        self
          ->request(self->state.vault, helper_timeout, atom::get_v,
                    self->state.ref.user, self->state.ref.account)
          .then(
            [self, settings, rp,
             built = *built](account_credentials& creds) mutable {
              auto& s = self->state;
              smtp::client_options co;
              co.ca_file = settings.ca_file;
              co.timeout = s.opts.timeout;
              co.operation_timeout = s.opts.operation_timeout;
              auto client = std::make_shared<smtp::client>(co);
              auto password = settings.smtp_own_password
                                ? std::move(creds.smtp_password)
                                : std::move(creds.imap_password);
              creds.imap_password.wipe();
              creds.smtp_password.wipe();
              auto sender = self->spawn<caf::detached>(
                smtp_sender, client, settings.smtp, std::move(password),
                s.opts.hosts);
              self
                ->request(sender, s.opts.operation_timeout + 10s,
                          atom::send_v, built.sender, built.recipients,
                          built.data)
                .then(
                  [self, rp, built](atom::ok) mutable {
                    // Sent: now keep a copy in Sent, as mail clients do.
                    pending_request req;
                    auto timeout = self->state.opts.operation_timeout + 10s;
                    auto id = built.message_id;
                    req.run = [self, rp, timeout, built](
                                uint64_t slot,
                                const imap_connection_actor& c) mutable {
                      self->request(c, timeout, atom::save_sent_v, built.data)
                        .then(
                          [self, rp, slot,
                           id = built.message_id](imap::append_result& r) mutable {
                            rp.deliver(sent_message{id, r.folder, r.uid, ""});
                            self->state.finish(slot, caf::error{});
                          },
                          [self, rp, slot,
                           id = built.message_id](caf::error& err) mutable {
                            rp.deliver(sent_message{id, "", 0, describe(err)});
                            self->state.finish(slot, err);
                          });
                    };
                    req.fail = [rp, id](const caf::error& err) mutable {
                      rp.deliver(sent_message{id, "", 0, describe(err)});
                    };
                    self->state.submit(std::move(req));
                  },
                  [rp, client](caf::error& err) mutable {
                    client->cancel();
                    rp.deliver(err);
                  });
            },
            [rp](caf::error& err) mutable { rp.deliver(err); });
      },
      [rp](caf::error& err) mutable { rp.deliver(err); });
}

} // namespace

account_actor::behavior_type
account(account_actor::stateful_pointer<account_state> self, mailbox_ref ref,
        directory_actor directory, vault_actor vault, mail_router_actor router,
        mail_options opts) {
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
  self->set_down_handler([self](const caf::down_msg& msg) {
    auto& pool = self->state.pool;
    auto i = std::find_if(pool.begin(), pool.end(), [&](const auto& s) {
      return s.hdl.address() == msg.source;
    });
    if (i != pool.end()) {
      self->state.drop(i->id);
      self->state.pump();
    }
  });
  auto tick = std::max<std::chrono::seconds>(1s, std::min<std::chrono::seconds>(
                                                   st.opts.idle / 2, 30s));
  self->delayed_send(self, tick, atom::tick_v);
  return {
    [=](atom::folders, const mailbox_ref&, bool with_counts) {
      return on_connection<std::vector<imap::folder>>(self, atom::folders_v,
                                                      with_counts);
    },
    [=](atom::messages, const mailbox_ref&, const std::string& folder,
        const imap::page_request& req) {
      return on_connection<imap::message_page>(self, atom::messages_v, folder,
                                               req);
    },
    [=](atom::read, const mailbox_ref&, const std::string& folder,
        const std::vector<uint32_t>& uids, const imap::read_options& options) {
      return on_connection<std::vector<imap::read_outcome>>(
        self, atom::read_v, folder, uids, options);
    },
    [=](atom::search, const mailbox_ref&, const std::string& folder,
        const imap::search_query& query) {
      return on_connection<imap::search_result>(self, atom::search_v, folder,
                                                query);
    },
    [=](atom::move, const mailbox_ref&, const std::string& folder, uint32_t uid,
        const std::string& destination) {
      return on_connection<imap::move_result>(self, atom::move_v, folder, uid,
                                              destination);
    },
    [=](atom::flag, const mailbox_ref&, const std::string& folder, uint32_t uid,
        const imap::flag_change& change) {
      return on_connection<imap::flag_result>(self, atom::flag_v, folder, uid,
                                              change);
    },
    [=](atom::send, const mailbox_ref&,
        const mime::outgoing_message& msg) -> caf::result<sent_message> {
      auto rp = self->make_response_promise<sent_message>();
      send_mail(self, msg, rp);
      return rp;
    },
    [=](atom::thread, const mailbox_ref&, const std::string& folder,
        uint32_t uid) {
      return on_connection<imap::thread_result>(self, atom::thread_v, folder,
                                                uid);
    },
    [=](atom::bulk, const mailbox_ref&, const imap::bulk_request& req) {
      return on_connection<imap::bulk_result>(self, atom::bulk_v, req);
    },
    [=](atom::folder_op, const mailbox_ref&,
        const imap::folder_change& change) {
      return on_connection<imap::folder>(self, atom::folder_op_v, change);
    },
    [=](atom::search_all, const mailbox_ref&, const imap::search_query& query) {
      return on_connection<imap::multi_search_result>(self, atom::search_all_v,
                                                      query);
    },
    [=](atom::tick) {
      if (self->state.reap()) {
        self->quit(caf::exit_reason::normal);
        return;
      }
      self->delayed_send(self, tick, atom::tick_v);
    },
  };
}

} // namespace postern
