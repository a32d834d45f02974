// SPDX-License-Identifier: Apache-2.0
#include "postern/actors/mail_router.hpp"

#include "postern/actors/connection_probe.hpp"
#include "postern/clock.hpp"
#include "postern/error.hpp"
#include "postern/log.hpp"

#include <caf/actor_cast.hpp>
#include <caf/result.hpp>

namespace postern {

namespace {

/// Why an actor ended, without the error's context: an exception's what()
/// travels there and may quote a mail server's or a message's text.
std::string reason_without_context(const caf::error& reason) {
  if (reason.category() == caf::atom("exit"))
    return caf::to_string(static_cast<caf::exit_reason>(reason.code()));
  return caf::to_string(reason.category()) + " error "
         + std::to_string(reason.code());
}

/// The actor that sent the message being handled.
caf::actor_addr sender_of(mail_router_actor::pointer self) {
  return caf::actor_cast<caf::actor_addr>(self->current_sender());
}

/// Hands a mailbox operation to the ACCOUNT of `ref`, which answers the
/// caller itself.
template <class Atom, class... Ts>
auto to_account(mail_router_actor::stateful_pointer<mail_router_state> self,
                Atom op, const mailbox_ref& ref, const Ts&... xs) {
  return self->delegate(self->state.account_for(ref), op, ref, xs...);
}

} // namespace

account_actor mail_router_state::account_for(const mailbox_ref& ref) {
  auto key = account_index::key_of(ref);
  if (auto i = accounts.find(key); i != accounts.end())
    return i->second;
  auto hdl = self->spawn(account, ref, directory, vault,
                         caf::actor_cast<mail_router_actor>(self), opts);
  // Monitored, not linked: an ACCOUNT that fails (say, an exception on a
  // hostile message) is forgotten like an idle one and takes no other
  // mailbox with it; the ACCOUNT monitors the router and ends with it.
  self->monitor(hdl);
  accounts.emplace(key, hdl);
  keys.emplace(hdl.address(), key);
  if (index)
    index->put(key, caf::actor_cast<mailbox_operations_actor>(hdl));
  return hdl;
}

void mail_router_state::on_down(const caf::down_msg& msg) {
  if (auto i = keys.find(msg.source); i != keys.end()) {
    if (msg.reason && msg.reason != caf::exit_reason::user_shutdown)
      POSTERN_WARN("mail-router: an ACCOUNT failed ({}); its mailbox starts "
                   "afresh on the next request, the others go on",
                   reason_without_context(msg.reason));
    if (index)
      index->erase(i->second);
    accounts.erase(i->second);
    keys.erase(i);
  }
  release_all(msg.source);
  for (auto i = probing.begin(); i != probing.end(); ++i)
    if (i->second == msg.source) {
      probing.erase(i);
      break;
    }
}

void mail_router_state::release_all(const caf::actor_addr& who) {
  auto i = held.find(who);
  if (i == held.end())
    return;
  auto& [user, count] = i->second;
  per_user[user] -= std::min(per_user[user], count);
  if (per_user[user] == 0)
    per_user.erase(user);
  total -= std::min(total, count);
  held.erase(i);
}

caf::error
mail_router_state::admit_probe(const std::string& user,
                               std::chrono::steady_clock::time_point now) {
  if (probing.count(user) != 0)
    return caf::make_error(ec::too_busy,
                           "a connection test of yours is still running; "
                           "wait for its result before starting another");
  // Forget starts older than an hour, for every user, so the table holds
  // only the last hour's testers.
  for (auto i = probe_starts.begin(); i != probe_starts.end();) {
    auto& starts = i->second;
    while (!starts.empty() && now - starts.front() >= std::chrono::hours{1})
      starts.pop_front();
    i = starts.empty() ? probe_starts.erase(i) : std::next(i);
  }
  auto& mine = probe_starts[user];
  if (mine.size() >= opts.probes_per_hour) {
    if (mine.empty())
      probe_starts.erase(user);
    auto wait = std::chrono::duration_cast<std::chrono::minutes>(
                  mine.front() + std::chrono::hours{1} - now)
                  .count()
                + 1;
    return caf::make_error(ec::too_busy,
                           "you have run " + std::to_string(mine.size())
                             + " connection tests in the last hour, the most "
                               "allowed; try again in "
                             + std::to_string(wait) + " minutes");
  }
  if (total >= opts.max_total)
    return caf::make_error(ec::too_busy,
                           "the server has reached its limit of "
                             + std::to_string(opts.max_total)
                             + " mail connections; try again shortly");
  if (per_user[user] >= opts.max_per_user)
    return caf::make_error(ec::too_busy,
                           "you have " + std::to_string(per_user[user])
                             + " mail connections open, the most allowed; "
                               "try again when a request finishes");
  mine.push_back(now);
  return caf::none;
}

caf::result<probe_report>
mail_router_state::start_probe(const account_settings& settings,
                               const account_credentials& creds) {
  // A test holds a thread for up to two connection timeouts: it counts as a
  // connection of its user and of the server while it runs, one at a time
  // per user, and a user has an hourly allowance.
  auto user = settings.owner.value;
  if (auto err = admit_probe(user, steady_now()))
    return err;
  if (uses_oauth(settings) && creds.imap_password.empty()) {
    // The token comes from the ACCOUNT, the one place that refreshes it
    // (a sign-in the dashboard has just redeemed brings its own token as
    // imap_password: its account does not exist yet).
    auto rp = self->make_response_promise<probe_report>();
    auto st = this;
    self
      ->request(account_for(mailbox_ref{settings.owner, settings.id}),
                std::chrono::seconds(60), atom::signin_v,
                mailbox_ref{settings.owner, settings.id})
      .then(
        [st, rp, settings](secret& token) mutable {
          account_credentials signed_in;
          signed_in.imap_password = std::move(token);
          auto probe = st->spawn_probe(settings.owner.value);
          st->self->request(probe, std::chrono::seconds(300), atom::probe_v,
                            settings, signed_in)
            .then([rp](probe_report& r) mutable { rp.deliver(std::move(r)); },
                  [rp](caf::error& err) mutable {
                    rp.deliver(std::move(err));
                  });
        },
        [rp](caf::error& err) mutable {
          // The test's answer: signing in failed, said as for a login.
          probe_report r;
          r.imap_ok = false;
          r.imap_message = describe(err);
          r.smtp_tested = false;
          rp.deliver(std::move(r));
        });
    return rp;
  }
  auto probe = spawn_probe(user);
  return self->delegate(probe, atom::probe_v, settings, creds);
}

probe_actor mail_router_state::spawn_probe(const std::string& user) {
  auto probe = self->spawn<caf::detached>(connection_probe, opts.timeout,
                                          opts.hosts, opts.providers);
  self->monitor(probe);
  ++per_user[user];
  ++total;
  held[probe.address()] = {user, 1};
  probing[user] = probe.address();
  return probe;
}

void mail_router_state::forget(const mailbox_ref& ref) {
  auto i = accounts.find(account_index::key_of(ref));
  if (i == accounts.end())
    return;
  // The next request starts a fresh ACCOUNT; the down message of this one
  // gives its permits back.
  auto hdl = i->second;
  if (index)
    index->erase(i->first);
  keys.erase(hdl.address());
  accounts.erase(i);
  self->send_exit(hdl, caf::exit_reason::user_shutdown);
}

mail_status mail_router_state::status() const {
  mail_status result;
  result.connections = static_cast<int64_t>(total);
  result.accounts = static_cast<int64_t>(accounts.size());
  if (auto& cache = opts.cache) {
    result.cache_hits = static_cast<int64_t>(cache->hits());
    result.cache_misses = static_cast<int64_t>(cache->misses());
    result.cache_bytes = static_cast<int64_t>(cache->bytes());
  }
  return result;
}

caf::result<atom::ok> mail_router_state::acquire(const user_id& user) {
  if (total >= opts.max_total)
    return caf::make_error(ec::too_busy,
                           "the server has reached its limit of "
                             + std::to_string(opts.max_total)
                             + " mail connections; try again shortly");
  auto& mine = per_user[user.value];
  if (mine >= opts.max_per_user)
    return caf::make_error(ec::too_busy,
                           "you have " + std::to_string(mine)
                             + " mail connections open, the most "
                               "allowed; try again when a request "
                               "finishes");
  ++mine;
  ++total;
  auto& h = held[sender_of(self)];
  h.first = user.value;
  ++h.second;
  return atom::ok_v;
}

void mail_router_state::release(const user_id& user) {
  auto i = held.find(sender_of(self));
  if (i == held.end() || i->second.second == 0)
    return;
  --i->second.second;
  if (auto j = per_user.find(user.value); j != per_user.end()) {
    if (j->second > 0)
      --j->second;
    if (j->second == 0)
      per_user.erase(j);
  }
  if (total > 0)
    --total;
}

mail_router_actor::behavior_type
mail_router(mail_router_actor::stateful_pointer<mail_router_state> self,
            directory_actor directory, vault_actor vault, mail_options opts,
            std::shared_ptr<account_index> index) {
  self->state.self = self;
  self->state.index = index;
  // Callers stop finding ACCOUNTs of a router that has ended (they are
  // ending with it); the index does not keep them alive.
  if (index)
    self->attach_functor([index] { index->clear(); });
  self->state.directory = std::move(directory);
  self->state.vault = std::move(vault);
  self->state.opts = std::move(opts);
  self->set_down_handler(
    [self](const caf::down_msg& msg) { self->state.on_down(msg); });
  // The mailbox operations go unchanged to the ACCOUNT of the mailbox; the
  // rest is in the state (above).
  return {
    [=](atom::folders op, const mailbox_ref& ref, bool with_counts) {
      return to_account(self, op, ref, with_counts);
    },
    [=](atom::messages op, const mailbox_ref& ref, const std::string& folder,
        const imap::page_request& req) {
      return to_account(self, op, ref, folder, req);
    },
    [=](atom::read op, const mailbox_ref& ref, const std::string& folder,
        const std::vector<uint32_t>& uids, const imap::read_options& options) {
      return to_account(self, op, ref, folder, uids, options);
    },
    [=](atom::search op, const mailbox_ref& ref, const std::string& folder,
        const imap::search_query& query) {
      return to_account(self, op, ref, folder, query);
    },
    [=](atom::move op, const mailbox_ref& ref, const std::string& folder,
        uint32_t uid, const std::string& destination) {
      return to_account(self, op, ref, folder, uid, destination);
    },
    [=](atom::flag op, const mailbox_ref& ref, const std::string& folder,
        uint32_t uid, const imap::flag_change& change) {
      return to_account(self, op, ref, folder, uid, change);
    },
    [=](atom::send op, const mailbox_ref& ref,
        const mime::outgoing_message& msg, const send_rules& rules) {
      return to_account(self, op, ref, msg, rules);
    },
    [=](atom::deliver op, const mailbox_ref& ref,
        const mime::built_message& built) {
      return to_account(self, op, ref, built);
    },
    [=](atom::thread op, const mailbox_ref& ref, const std::string& folder,
        uint32_t uid) { return to_account(self, op, ref, folder, uid); },
    [=](atom::bulk op, const mailbox_ref& ref, const imap::bulk_request& req) {
      return to_account(self, op, ref, req);
    },
    [=](atom::folder_op op, const mailbox_ref& ref,
        const imap::folder_change& change) {
      return to_account(self, op, ref, change);
    },
    [=](atom::search_all op, const mailbox_ref& ref,
        const imap::search_query& query) {
      return to_account(self, op, ref, query);
    },
    [=](atom::attachment op, const mailbox_ref& ref, const std::string& folder,
        uint32_t uid, const std::string& part_id) {
      return to_account(self, op, ref, folder, uid, part_id);
    },
    [=](atom::download op, const mailbox_ref& ref, const std::string& folder,
        uint32_t uid, const std::string& part_id,
        const mime::attachment_limits& limits) {
      return to_account(self, op, ref, folder, uid, part_id, limits);
    },
    [=](atom::compose op, const mailbox_ref& ref,
        const mime::compose_request& request, const send_rules& rules) {
      return to_account(self, op, ref, request, rules);
    },
    [=](atom::probe, const account_settings& settings,
        const account_credentials& creds) {
      return self->state.start_probe(settings, creds);
    },
    [=](atom::forget, const mailbox_ref& ref) { self->state.forget(ref); },
    [=](atom::status) { return self->state.status(); },
    [=](atom::acquire, const user_id& user) {
      return self->state.acquire(user);
    },
    [=](atom::release, const user_id& user) { self->state.release(user); },
  };
}

mail_router_actor spawn_mail_router(caf::actor_system& sys,
                                    directory_actor directory,
                                    vault_actor vault, mail_options opts,
                                    std::shared_ptr<account_index> index) {
  return sys.spawn(mail_router, std::move(directory), std::move(vault),
                   std::move(opts), std::move(index));
}

} // namespace postern
