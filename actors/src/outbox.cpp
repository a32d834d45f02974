// SPDX-License-Identifier: Apache-2.0
// The OUTBOX: messages held for their person's yes. The ACCOUNT builds and
// checks a message and does not send it; the MCP layer hands it here; the
// dashboard's Send hands its bytes back to the MAIL ROUTER (atom::deliver)
// unchanged, so what the person approved is exactly what goes out.
#include "postern/actors/outbox.hpp"

#include "postern/clock.hpp"
#include "postern/directory_types.hpp"
#include "postern/error.hpp"
#include "postern/log.hpp"
#include "postern/mime/message_builder.hpp"
#include "postern/storage/outbox_store.hpp"

#include <caf/send.hpp>
#include <caf/typed_response_promise.hpp>

namespace postern {

namespace {

using self_ptr = outbox_actor::stateful_pointer<outbox_state>;

/// Why an entry can no longer be sent or discarded, in words.
caf::error already_decided(const outbox_entry& e) {
  switch (e.status) {
    case outbox_status::sent:
      return caf::make_error(ec::invalid_request,
                             "This message was sent already.");
    case outbox_status::discarded:
      return caf::make_error(ec::invalid_request,
                             "This message was discarded; it was not sent.");
    case outbox_status::expired:
      return caf::make_error(ec::invalid_request,
                             "This message waited too long for a yes and "
                             "expired; it was not sent.");
    case outbox_status::pending:
      break;
  }
  return caf::make_error(ec::invalid_request,
                         "This message is being sent right now.");
}

caf::error no_such_entry() {
  return caf::make_error(ec::no_such_message,
                         "There is no such message in your outbox.");
}

std::string key_of(const user_id& user, const std::string& id) {
  return user.value + "/" + id;
}

/// The entry as answered: never the bytes.
outbox_entry without_bytes(outbox_entry e) {
  e.message.data.clear();
  e.message.data.shrink_to_fit();
  e.message.sender.clear();
  e.message.recipients.clear();
  return e;
}

caf::result<outbox_entry> hold(self_ptr self, outbox_entry entry) {
  auto& st = self->state;
  auto now = unix_seconds();
  entry.id = storage::new_outbox_id();
  entry.status = outbox_status::pending;
  entry.created = now;
  entry.expires = now + st.opts.ttl.count();
  entry.decided = 0;
  entry.error.clear();
  entry.sent_folder.clear();
  auto err = st.env->write([&](storage::txn& t) -> caf::error {
    if (storage::count_pending(t, entry.user) >= st.opts.max_pending_per_user)
      return caf::make_error(
        ec::too_busy,
        "The person's outbox already holds "
          + std::to_string(st.opts.max_pending_per_user)
          + " messages waiting for a yes; nothing more can wait until they "
            "send or discard some on the dashboard.");
    storage::put_outbox_entry(t, entry);
    return caf::none;
  });
  if (err)
    return err;
  // The tool call's own entry in the activity log says it was held.
  return without_bytes(std::move(entry));
}

caf::result<outbox_entry> approve(self_ptr self, const user_id& user,
                                  const std::string& id) {
  auto& st = self->state;
  st.expire_due(user);
  std::optional<outbox_entry> held;
  std::optional<outbox_entry> found;
  auto err = st.env->read([&](const storage::txn& t) -> caf::error {
    found = storage::find_outbox_entry(t, user, id);
    if (found)
      held = storage::load_held_message(t, user, id);
    return caf::none;
  });
  if (err)
    return err;
  if (!found)
    return no_such_entry();
  if (!held || st.sending.count(key_of(user, id)) > 0)
    return already_decided(*found);
  auto key = key_of(user, id);
  st.sending.insert(key);
  mime::built_message built;
  built.data = std::move(held->message.data);
  built.message_id = held->message.message_id;
  built.sender = std::move(held->message.sender);
  built.recipients = std::move(held->message.recipients);
  auto rp = self->make_response_promise<outbox_entry>();
  auto entry = without_bytes(std::move(*held));
  self
    ->request(st.mail, st.opts.send_timeout, atom::deliver_v,
              mailbox_ref{user, entry.account}, std::move(built))
    .then(
      [self, rp, key, entry](sent_message& sent) mutable {
        auto& state = self->state;
        state.sending.erase(key);
        std::optional<outbox_entry> decided;
        auto werr = state.env->write([&](storage::txn& t) -> caf::error {
          decided = storage::decide_outbox_entry(
            t, entry.user, entry.id, outbox_status::sent, unix_seconds(),
            sent.sent_folder);
          return caf::none;
        });
        if (werr || !decided) {
          // It went out; only the record of it failed. Say so rather than
          // let the person send it twice.
          POSTERN_ERROR("outbox: sent {} but could not record it: {}",
                        entry.id, werr ? render(werr) : "entry gone");
          entry.status = outbox_status::sent;
          entry.decided = unix_seconds();
          rp.deliver(entry);
          return;
        }
        state.audit(*decided, "web", "outbox.send", "ok");
        rp.deliver(*decided);
      },
      [self, rp, key, entry](caf::error& failure) mutable {
        auto& state = self->state;
        state.sending.erase(key);
        auto why = failure.category() == caf::atom("postern")
                     ? describe(failure)
                     : std::string{"the mail service did not answer in time"};
        auto ignored = state.env->write([&](storage::txn& t) -> caf::error {
          storage::note_outbox_failure(t, entry.user, entry.id, why);
          return caf::none;
        });
        static_cast<void>(ignored);
        state.audit(entry, "web", "outbox.send", "failed");
        rp.deliver(caf::make_error(ec::smtp_failure,
                                   "The message could not be sent: " + why
                                     + ". It is still waiting in your "
                                       "outbox; try again later."));
      });
  return rp;
}

caf::result<outbox_entry> discard(self_ptr self, const user_id& user,
                                  const std::string& id) {
  auto& st = self->state;
  st.expire_due(user);
  if (st.sending.count(key_of(user, id)) > 0)
    return caf::make_error(ec::invalid_request,
                           "This message is being sent right now.");
  std::optional<outbox_entry> found;
  std::optional<outbox_entry> decided;
  auto err = st.env->write([&](storage::txn& t) -> caf::error {
    found = storage::find_outbox_entry(t, user, id);
    if (found)
      decided = storage::decide_outbox_entry(t, user, id,
                                             outbox_status::discarded,
                                             unix_seconds());
    return caf::none;
  });
  if (err)
    return err;
  if (!found)
    return no_such_entry();
  if (!decided)
    return already_decided(*found);
  st.audit(*decided, "web", "outbox.discard", "ok");
  return *decided;
}

} // namespace

void outbox_state::audit(const outbox_entry& entry, const std::string& actor,
                         const std::string& action,
                         const std::string& outcome) const {
  if (!directory)
    return;
  std::string target = "message " + entry.id + ", account "
                       + entry.account.value + ", grant " + entry.grant.value;
  caf::anon_send(directory, atom::audit_v,
                 audit_event{unix_millis(), entry.user, actor, action,
                             std::move(target), outcome, ""});
}

void outbox_state::expire_due(const user_id& user) {
  auto now = unix_seconds();
  std::vector<outbox_entry> expired;
  auto err = env->write([&](storage::txn& t) -> caf::error {
    expired.clear();
    for (auto& e : storage::list_outbox(t, user))
      if (e.status == outbox_status::pending && e.expires <= now
          && sending.count(key_of(user, e.id)) == 0)
        if (auto d = storage::decide_outbox_entry(t, user, e.id,
                                                  outbox_status::expired, now))
          expired.push_back(std::move(*d));
    return caf::none;
  });
  if (err) {
    POSTERN_WARN("outbox: expiring failed: {}", render(err));
    return;
  }
  for (auto& e : expired)
    audit(e, "system", "outbox.expire", "ok");
}

void outbox_state::sweep() {
  auto now = unix_seconds();
  storage::outbox_sweep swept;
  auto err = env->write([&](storage::txn& t) -> caf::error {
    swept = storage::sweep_outbox(t, now, now - opts.retention.count());
    return caf::none;
  });
  if (err) {
    POSTERN_WARN("outbox: sweep failed: {}", render(err));
    return;
  }
  for (auto& e : swept.expired)
    audit(e, "system", "outbox.expire", "ok");
}

outbox_actor::behavior_type
outbox(outbox_actor::stateful_pointer<outbox_state> self,
       std::shared_ptr<storage::environment> env, mail_actor mail,
       directory_actor directory, outbox_options opts) {
  auto& st = self->state;
  st.env = std::move(env);
  st.mail = std::move(mail);
  st.directory = std::move(directory);
  st.opts = opts;
  if (st.opts.sweep_interval.count() > 0)
    self->delayed_send(self, st.opts.sweep_interval, atom::tick_v);
  return {
    [=](atom::hold, outbox_entry& entry) {
      return hold(self, std::move(entry));
    },
    [=](atom::list,
        const user_id& user) -> caf::result<std::vector<outbox_entry>> {
      self->state.expire_due(user);
      std::vector<outbox_entry> out;
      auto err = self->state.env->read([&](const storage::txn& t) {
        out = storage::list_outbox(t, user);
        return caf::error{};
      });
      if (err)
        return err;
      return out;
    },
    [=](atom::get, const user_id& user,
        const std::string& id) -> caf::result<outbox_entry> {
      self->state.expire_due(user);
      std::optional<outbox_entry> found;
      auto err = self->state.env->read([&](const storage::txn& t) {
        found = storage::find_outbox_entry(t, user, id);
        return caf::error{};
      });
      if (err)
        return err;
      if (!found)
        return no_such_entry();
      return *found;
    },
    [=](atom::send, const user_id& user, const std::string& id) {
      return approve(self, user, id);
    },
    [=](atom::discard, const user_id& user, const std::string& id) {
      return discard(self, user, id);
    },
    [=](atom::tick) {
      self->state.sweep();
      if (self->state.opts.sweep_interval.count() > 0)
        self->delayed_send(self, self->state.opts.sweep_interval,
                           atom::tick_v);
    },
  };
}

outbox_actor spawn_outbox(caf::actor_system& sys,
                          std::shared_ptr<storage::environment> env,
                          mail_actor mail, directory_actor directory,
                          outbox_options opts) {
  return sys.spawn(outbox, std::move(env), std::move(mail),
                   std::move(directory), opts);
}

} // namespace postern
