// SPDX-License-Identifier: Apache-2.0
#include "postern/actors/account.hpp"

#include "postern/actors/imap_connection.hpp"
#include "postern/actors/smtp_sender.hpp"
#include "postern/error.hpp"
#include "postern/log.hpp"
#include "postern/mime/message_builder.hpp"

#include <caf/result.hpp>
#include <caf/sec.hpp>
#include <caf/send.hpp>
#include <caf/typed_response_promise.hpp>

#include <algorithm>
#include <functional>

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
  // Still waiting (pump runs the queue from its front, so the back is this
  // request): watch the caller, to drop the request if it goes away first.
  if (!queue.empty() && queue.back().requester && !queue.back().watched) {
    queue.back().watched = true;
    self->monitor(queue.back().requester);
    POSTERN_DEBUG("account {}: a request waits for a connection ({} waiting)",
                  ref.account.value, queue.size());
  }
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
    if (req.watched)
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
                    so.hosts = st->opts.hosts;
                    so.cache = st->opts.cache;
                    so.cache_account = st->ref.user.value + "/"
                                       + st->ref.account.value;
                    so.budget = st->opts.imap_budget;
                    so.account_label = settings.label;
                    auto session = std::make_shared<imap::session>(so);
                    auto cancel = session->cancel_handle();
                    auto hdl = st->self->spawn<caf::detached>(
                      imap_connection, session, settings.imap,
                      std::move(creds.imap_password));
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

template <class T>
using then_fn = std::function<void(caf::expected<T>)>;

/// Runs one operation on a pooled connection and hands its result to
/// `then` (before the connection goes back to the pool).
template <class T, class... Ts>
void with_connection(account_actor::stateful_pointer<account_state> self,
                     caf::actor_addr requester, then_fn<T> then, Ts... xs) {
  pending_request req;
  req.requester = std::move(requester);
  auto timeout = self->state.opts.operation_timeout + 10s;
  req.run = [self, then, timeout, xs...](uint64_t slot,
                                         const imap_connection_actor& c) mutable {
    self->request(c, timeout, xs...)
      .then(
        [self, then, slot](T& value) mutable {
          then(std::move(value));
          self->state.finish(slot, caf::error{});
        },
        [self, then, slot](caf::error& err) mutable {
          then(err);
          self->state.finish(slot, err);
        });
  };
  req.fail = [then](const caf::error& err) mutable { then(err); };
  self->state.submit(std::move(req));
}

/// Runs one operation on a pooled connection and answers with its result.
template <class T, class... Ts>
caf::result<T> on_connection(account_actor::stateful_pointer<account_state> self,
                             Ts... xs) {
  // Called from a handler: the sender is the caller (the MAIL ROUTER
  // delegates), typically the short-lived actor of one tool call. Read
  // before make_response_promise, which moves it out of the message.
  auto caller = caf::actor_cast<caf::actor_addr>(self->current_sender());
  auto rp = self->make_response_promise<T>();
  with_connection<T>(
    self, std::move(caller),
    [rp](caf::expected<T> result) mutable {
      if (result)
        rp.deliver(std::move(*result));
      else
        rp.deliver(std::move(result.error()));
    },
    xs...);
  return rp;
}

/// Fails with `ec::too_large` when the message's files exceed the limit.
caf::error check_attachment_size(const mail_options& opts,
                                 const mime::outgoing_message& msg) {
  uint64_t total = 0;
  for (auto& a : msg.attachments)
    total += a.data.size();
  if (total <= opts.max_send_attachment_bytes)
    return caf::none;
  return caf::make_error(
    ec::too_large, "The attachments are " + mime::format_size(total)
                     + " together, more than the "
                     + mime::format_size(opts.max_send_attachment_bytes)
                     + " one message may carry here");
}

/// Sends through the account's SMTP server, then saves a copy to Sent.
void send_mail(account_actor::stateful_pointer<account_state> self,
               mime::outgoing_message msg, then_fn<sent_message> done) {
  auto& st = self->state;
  st.last_activity = account_state::clock::now();
  if (auto err = check_attachment_size(st.opts, msg)) {
    done(err);
    return;
  }
  self->request(st.directory, helper_timeout, atom::get_v, st.ref.user,
                st.ref.account)
    .then(
      [self, msg, done](account_settings& settings) mutable {
        if (!settings.has_smtp) {
          done(caf::make_error(ec::not_supported,
                               "this account has no SMTP server "
                               "configured, so it cannot send mail"));
          return;
        }
        if (msg.from.address.empty()) {
          msg.from.address = sender_address(settings);
          if (msg.from.address.empty()) {
            done(caf::make_error(
              ec::invalid_argument,
              "the account's login name is not an email address, so the "
              "sender is unknown"));
            return;
          }
        }
        auto built = mime::build_message(msg);
        if (!built) {
          done(built.error());
          return;
        }
        if (auto err = self->state.admit_send()) {
          done(err);
          return;
        }
        self
          ->request(self->state.vault, helper_timeout, atom::get_v,
                    self->state.ref.user, self->state.ref.account)
          .then(
            [self, settings, done,
             built = *built](account_credentials& creds) mutable {
              auto& s = self->state;
              smtp::client_options co;
              co.ca_file = settings.ca_file;
              co.timeout = s.opts.timeout;
              co.operation_timeout = s.opts.operation_timeout;
              co.hosts = s.opts.hosts;
              co.budget = s.opts.smtp_budget;
              co.account_label = settings.label;
              auto client = std::make_shared<smtp::client>(co);
              auto password = settings.smtp_own_password
                                ? std::move(creds.smtp_password)
                                : std::move(creds.imap_password);
              creds.imap_password.wipe();
              creds.smtp_password.wipe();
              auto sender = self->spawn<caf::detached>(
                smtp_sender, client, settings.smtp, std::move(password));
              self
                ->request(sender, s.opts.operation_timeout + 10s,
                          atom::send_v, built.sender, built.recipients,
                          built.data)
                .then(
                  [self, done, built](atom::ok) mutable {
                    // Sent: now keep a copy in Sent, as mail clients do.
                    auto id = built.message_id;
                    with_connection<imap::append_result>(
                      self, caf::actor_addr{},
                      [done, id](caf::expected<imap::append_result> r) mutable {
                        if (r)
                          done(sent_message{id, r->folder, r->uid, ""});
                        else
                          done(sent_message{id, "", 0, describe(r.error())});
                      },
                      atom::save_sent_v, built.data);
                  },
                  [done, client](caf::error& err) mutable {
                    client->cancel();
                    done(err);
                  });
            },
            [done](caf::error& err) mutable { done(err); });
      },
      [done](caf::error& err) mutable { done(err); });
}

// -- composing ----------------------------------------------------------------

/// Saves a composed message to Drafts, or sends it, and reports the
/// outcome with what was composed.
void deliver_composed(account_actor::stateful_pointer<account_state> self,
                      mime::outgoing_message msg, bool draft,
                      then_fn<mime::composed_message> done) {
  mime::composed_message summary;
  summary.subject = msg.subject;
  summary.to = msg.to;
  summary.cc = msg.cc;
  summary.in_reply_to = msg.in_reply_to;
  summary.references = msg.references;
  if (!msg.in_reply_to.empty()
      && (summary.references.empty()
          || summary.references.back() != msg.in_reply_to))
    summary.references.push_back(msg.in_reply_to);
  for (auto& a : msg.attachments)
    summary.attachments.push_back(a.filename);
  if (!draft) {
    send_mail(self, std::move(msg),
              [done, summary](caf::expected<sent_message> sent) mutable {
                if (!sent)
                  return done(std::move(sent.error()));
                summary.message_id = sent->message_id;
                summary.folder = sent->sent_folder;
                summary.uid = sent->sent_uid;
                summary.save_error = sent->save_error;
                done(std::move(summary));
              });
    return;
  }
  auto& st = self->state;
  if (auto err = check_attachment_size(st.opts, msg)) {
    done(err);
    return;
  }
  auto built = mime::build_draft(msg);
  if (!built) {
    done(built.error());
    return;
  }
  with_connection<imap::append_result>(
    self, caf::actor_addr{},
    [done, summary, id = built->message_id](
      caf::expected<imap::append_result> saved) mutable {
      if (!saved)
        return done(std::move(saved.error()));
      summary.message_id = id;
      summary.folder = saved->folder;
      summary.uid = saved->uid;
      done(std::move(summary));
    },
    atom::save_draft_v, built->data);
}

/// Completes a new message, reply or forward (reading the original when
/// there is one) and sends it or saves it as a draft.
void compose(account_actor::stateful_pointer<account_state> self,
             mime::compose_request request,
             then_fn<mime::composed_message> done) {
  auto& st = self->state;
  st.last_activity = account_state::clock::now();
  self->request(st.directory, helper_timeout, atom::get_v, st.ref.user,
                st.ref.account)
    .then(
      [self, request, done](account_settings& settings) mutable {
        auto own = sender_address(settings);
        if (own.empty())
          return done(caf::make_error(
            ec::invalid_argument,
            "the account's login name is not an email address, so the "
            "sender is unknown"));
        if (!request.draft && !settings.has_smtp)
          return done(caf::make_error(ec::not_supported,
                                      "this account has no SMTP server "
                                      "configured, so it cannot send mail"));
        if (request.kind == mime::compose_kind::new_message) {
          auto msg = request.message;
          msg.from.address = own;
          return deliver_composed(self, std::move(msg), request.draft, done);
        }
        bool forward = request.kind == mime::compose_kind::forward;
        with_connection<mime::original_message>(
          self, caf::actor_addr{},
          [self, request, done, own,
           forward](caf::expected<mime::original_message> original) mutable {
            if (!original)
              return done(std::move(original.error()));
            auto msg = forward ? mime::compose_forward(*original, request)
                               : mime::compose_reply(*original, request, own);
            msg.from.address = own;
            deliver_composed(self, std::move(msg), request.draft, done);
          },
          atom::original_v, request.folder, request.uid, forward,
          self->state.opts.max_send_attachment_bytes);
      },
      [done](caf::error& err) mutable { done(err); });
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
      return;
    }
    if (auto n = self->state.abandon(msg.source); n > 0)
      POSTERN_DEBUG("account {}: {} waiting request(s) abandoned, their "
                    "caller went away", self->state.ref.account.value, n);
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
      send_mail(self, msg, [rp](caf::expected<sent_message> sent) mutable {
        if (sent)
          rp.deliver(std::move(*sent));
        else
          rp.deliver(std::move(sent.error()));
      });
      return rp;
    },
    [=](atom::attachment, const mailbox_ref&, const std::string& folder,
        uint32_t uid, const std::string& part_id) {
      return on_connection<mime::attachment_content>(
        self, atom::attachment_v, folder, uid, part_id,
        self->state.opts.attachment_limits);
    },
    [=](atom::compose, const mailbox_ref&, const mime::compose_request& request)
      -> caf::result<mime::composed_message> {
      auto rp = self->make_response_promise<mime::composed_message>();
      compose(self, request,
              [rp](caf::expected<mime::composed_message> done) mutable {
                if (done)
                  rp.deliver(std::move(*done));
                else
                  rp.deliver(std::move(done.error()));
              });
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
