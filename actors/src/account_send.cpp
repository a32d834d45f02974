// SPDX-License-Identifier: Apache-2.0
// The ACCOUNT's sending and composing: a message goes out through a
// short-lived SMTP SENDER, then a copy is appended to Sent on a pooled IMAP
// connection; drafts go to Drafts. The pool and the behavior are in
// account.cpp.
#include "account_internal.hpp"
#include "postern/actors/smtp_sender.hpp"
#include "postern/error.hpp"
#include "postern/text.hpp"
#include "postern/mime/compose.hpp"
#include "postern/mime/html.hpp"
#include "postern/mime/message_builder.hpp"

#include <caf/result.hpp>
#include <caf/typed_response_promise.hpp>

namespace postern::detail {

namespace {

using namespace std::chrono_literals;

/// Fails with `ec::too_large` when the message's files exceed the limit.
caf::error check_attachment_size(const mail_options& opts,
                                 const mime::outgoing_message& msg) {
  uint64_t total = 0;
  for (auto& a : msg.attachments)
    total += a.data.size();
  if (total <= opts.max_send_attachment_bytes)
    return caf::none;
  return caf::make_error(ec::too_large,
                         "The attachments are " + mime::format_size(total)
                           + " together, more than the "
                           + mime::format_size(opts.max_send_attachment_bytes)
                           + " one message may carry here");
}

/// Fetches, one after another, the parts that `msg`'s attachments refer to
/// (a message in the same account: the agent never carried their bytes),
/// then hands the message on with every attachment's bytes in place. Each
/// part may be as large as a sent message's attachments together; their
/// sum is checked afterwards, as for attachments given as base64.
void resolve_attachments(account_self self, mime::outgoing_message msg,
                         size_t next,
                         then_fn<mime::outgoing_message> done) {
  auto& list = msg.attachments;
  while (next < list.size() && list[next].source_uid == 0)
    ++next;
  if (next == list.size()) {
    done(std::move(msg));
    return;
  }
  auto limits = mime::attachment_limits::whole(
    self->state.opts.max_send_attachment_bytes);
  auto folder = list[next].source_folder;
  auto uid = list[next].source_uid;
  auto part = list[next].source_part;
  with_connection<mime::attachment_content>(
    self, caf::actor_addr{},
    [self, msg = std::move(msg), next,
     done](caf::expected<mime::attachment_content> got) mutable {
      auto& a = msg.attachments[next];
      if (!got) {
        if (got.error() == ec::too_large)
          return done(caf::make_error(
            ec::too_large,
            "Attachment " + a.source_part + " of message "
              + std::to_string(a.source_uid) + " is more than the "
              + mime::format_size(self->state.opts.max_send_attachment_bytes)
              + " one message may carry here"));
        return done(std::move(got.error()));
      }
      if (a.filename.empty())
        a.filename = mime::safe_attachment_filename(
          got->filename, "attachment-" + got->part_id);
      if (a.content_type.empty())
        a.content_type = mime::is_valid_media_type(got->mime_type)
                           ? got->mime_type
                           : std::string{"application/octet-stream"};
      a.charset = std::move(got->charset);
      a.data = std::move(got->data);
      a.source_uid = 0;
      resolve_attachments(self, std::move(msg), next + 1, std::move(done));
    },
    atom::attachment_v, folder, uid, part, limits);
}

/// The From of what the account writes: the address the agent asked for,
/// which must be one of the account's (its own or an alias, compared
/// without case, spelled as stored, the agent's display name kept); else
/// `fallback` (the address a reply's original was sent to); else the
/// account's own address.
caf::expected<mime::address> choose_sender(const account_settings& settings,
                                           const mime::address& wanted,
                                           const std::string& fallback) {
  auto own = sender_addresses(settings);
  if (own.empty())
    return caf::make_error(ec::invalid_argument,
                           "the account's login name is not an email "
                           "address, so the sender is unknown");
  if (wanted.address.empty()) {
    mime::address result;
    result.address = fallback.empty() ? own.front() : fallback;
    return result;
  }
  for (auto& o : own)
    if (ascii_lower(o) == ascii_lower(wanted.address)) {
      mime::address result{wanted.name, o};
      return result;
    }
  std::string list;
  for (auto& o : own)
    list += (list.empty() ? "" : ", ") + o;
  return caf::make_error(
    ec::forbidden,
    "`from` " + wanted.address + " is not an address of the account "
      + settings.label + "; it sends as " + list
      + " (its owner adds other From addresses on the dashboard)");
}

// -- sending ------------------------------------------------------------------

/// Keeps a copy of a sent message in Sent, as mail clients do. A failed
/// copy is reported in the answer: the message did go out.
void save_sent_copy(account_self self, const mime::built_message& built,
                    then_fn<sent_message> done) {
  auto id = built.message_id;
  with_connection<imap::append_result>(
    self, caf::actor_addr{},
    [done, id](caf::expected<imap::append_result> r) mutable {
      sent_message sent;
      sent.message_id = id;
      if (r) {
        sent.sent_folder = r->folder;
        sent.sent_uid = r->uid;
      } else {
        sent.save_error = describe(r.error());
      }
      done(std::move(sent));
    },
    atom::save_sent_v, built.data);
}

/// Hands a built message to a new SMTP SENDER, logging in with the SMTP
/// password or, when the account has none of its own, the IMAP one. Both
/// passwords are wiped here; the SENDER owns the one it needs.
void submit_to_smtp(account_self self, const account_settings& settings,
                    account_credentials& creds, mime::built_message built,
                    then_fn<sent_message> done) {
  auto& s = self->state;
  smtp::client_options co;
  co.ca_file = settings.ca_file;
  co.timeout = s.opts.timeout;
  co.operation_timeout = s.opts.operation_timeout;
  co.hosts = s.opts.hosts;
  co.budget = s.opts.smtp_budget;
  co.account_label = settings.label;
  if (uses_oauth(settings)) {
    auto* p = s.opts.providers ? s.opts.providers->find(settings.oauth_provider)
                               : nullptr;
    co.sasl = p != nullptr ? p->sasl : sasl_mechanism::xoauth2;
  }
  auto client = std::make_shared<smtp::client>(co);
  auto password = settings.smtp_own_password ? std::move(creds.smtp_password)
                                             : std::move(creds.imap_password);
  creds.imap_password.wipe();
  creds.smtp_password.wipe();
  auto sender = self->spawn<caf::detached>(smtp_sender, client, settings.smtp,
                                           std::move(password));
  self
    ->request(sender, s.opts.operation_timeout + 10s, atom::send_v,
              built.sender, built.recipients, built.data)
    .then([self, done,
           built](atom::ok) mutable { save_sent_copy(self, built, done); },
          [done, client](caf::error& err) mutable {
            // A SENDER that timed out may still be blocked in the network.
            client->cancel();
            done(detail::helper_error(
              std::move(err), ec::smtp_failure,
              "the connection to the mail server ended before it said "
              "whether the message was sent; look in Sent before sending "
              "it again"));
          });
}

/// What the person reads of a message before saying yes, with the bytes
/// that will go out.
held_message hold(const mime::outgoing_message& msg,
                  mime::built_message built) {
  held_message h;
  h.message_id = std::move(built.message_id);
  h.sender = std::move(built.sender);
  h.recipients = std::move(built.recipients);
  h.data = std::move(built.data);
  auto names = [](const std::vector<mime::address>& xs) {
    std::vector<std::string> out;
    for (auto& x : xs)
      out.push_back(x.name.empty() ? x.address
                                   : x.name + " <" + x.address + ">");
    return out;
  };
  h.from = msg.from.name.empty() ? msg.from.address
                                 : msg.from.name + " <" + msg.from.address + ">";
  h.to = names(msg.to);
  h.cc = names(msg.cc);
  h.bcc = names(msg.bcc);
  h.subject = msg.subject;
  h.text = msg.text.empty() && !msg.html.empty()
             ? mime::html_to_text(msg.html)
             : msg.text;
  if (h.text.size() > max_held_text_chars) {
    // Cut on a character boundary (never inside a UTF-8 sequence).
    size_t n = max_held_text_chars;
    while (n > 0 && (static_cast<unsigned char>(h.text[n]) & 0xC0) == 0x80)
      --n;
    h.text.resize(n);
    h.text += "\n[…]";
  }
  for (auto& a : msg.attachments)
    h.attachments.push_back(a.filename + " ("
                            + mime::format_size(a.data.size()) + ")");
  return h;
}

/// Counts a built message against the send limit, then sends it with the
/// account's passwords from the VAULT.
void deliver_built(account_self self, account_settings settings,
                   mime::built_message built, then_fn<sent_message> done) {
  if (!settings.has_smtp) {
    done(caf::make_error(ec::not_supported,
                         "this account has no SMTP server "
                         "configured, so it cannot send mail"));
    return;
  }
  if (auto err = self->state.admit_send()) {
    done(err);
    return;
  }
  if (uses_oauth(settings)) {
    // The provider's access token signs in to SMTP as it does to IMAP.
    self->state.with_access_token(
      settings, [self, settings, done, built = std::move(built)](
                  caf::expected<secret> token) mutable {
        if (!token)
          return done(token.error());
        account_credentials creds;
        creds.imap_password = std::move(*token);
        submit_to_smtp(self, settings, creds, std::move(built), done);
      });
    return;
  }
  self
    ->request(self->state.vault, helper_timeout, atom::get_v,
              self->state.ref.user, self->state.ref.account)
    .then(
      [self, settings, done,
       built = std::move(built)](account_credentials& creds) mutable {
        submit_to_smtp(self, settings, creds, std::move(built), done);
      },
      [done](caf::error& err) mutable { done(err); });
}

/// With the account's settings: checks that it can send, fills in the
/// sender, builds the message and counts it against the rate limit before
/// asking the VAULT for the passwords.
void send_with(account_self self, account_settings settings,
               mime::outgoing_message msg, const send_rules& rules,
               then_fn<sent_message> done) {
  if (!settings.has_smtp) {
    done(caf::make_error(ec::not_supported,
                         "this account has no SMTP server "
                         "configured, so it cannot send mail"));
    return;
  }
  auto from = choose_sender(settings, msg.from, {});
  if (!from) {
    done(std::move(from.error()));
    return;
  }
  msg.from = std::move(*from);
  done = [done, from = msg.from.address](caf::expected<sent_message> r) {
    if (r)
      r->from = from;
    done(std::move(r));
  };
  auto built = mime::build_message(msg);
  if (!built) {
    done(built.error());
    return;
  }
  // On the envelope's recipients: the derived ones of a reply, and Bcc.
  if (auto why = rules.refusal(built->recipients); !why.empty()) {
    done(caf::make_error(ec::forbidden, std::move(why)));
    return;
  }
  // The person says yes first: the caller puts it in their outbox, and
  // the send limit counts it when it really goes (deliver).
  if (rules.ask_first) {
    sent_message held;
    held.message_id = built->message_id;
    held.awaiting_approval = true;
    held.held = hold(msg, std::move(*built));
    done(std::move(held));
    return;
  }
  deliver_built(self, std::move(settings), std::move(*built), done);
}

/// Whether an attachment of `msg` still refers to a part to fetch.
bool has_references(const mime::outgoing_message& msg) {
  for (auto& a : msg.attachments)
    if (a.source_uid != 0)
      return true;
  return false;
}

/// Sends through the account's SMTP server, then saves a copy to Sent.
void send_mail(account_self self, mime::outgoing_message msg,
               send_rules rules, then_fn<sent_message> done) {
  auto& st = self->state;
  st.last_activity = account_state::clock::now();
  if (has_references(msg)) {
    resolve_attachments(
      self, std::move(msg), 0,
      [self, rules, done](caf::expected<mime::outgoing_message> m) mutable {
        if (!m)
          return done(std::move(m.error()));
        send_mail(self, std::move(*m), std::move(rules), std::move(done));
      });
    return;
  }
  if (auto err = check_attachment_size(st.opts, msg)) {
    done(err);
    return;
  }
  self
    ->request(st.directory, helper_timeout, atom::get_v, st.ref.user,
              st.ref.account)
    .then(
      [self, msg, rules, done](account_settings& settings) mutable {
        send_with(self, std::move(settings), std::move(msg), rules, done);
      },
      [done](caf::error& err) mutable { done(err); });
}

// -- composing ----------------------------------------------------------------

/// Saves a composed message to Drafts, or sends it, and reports the
/// outcome with what was composed.
void deliver_composed(account_self self, mime::outgoing_message msg, bool draft,
                      const send_rules& rules,
                      then_fn<mime::composed_message> done) {
  mime::composed_message summary;
  summary.from = msg.from.address;
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
    send_mail(self, std::move(msg), rules,
              [done, summary](caf::expected<sent_message> sent) mutable {
                if (!sent)
                  return done(std::move(sent.error()));
                summary.awaiting_approval = sent->awaiting_approval;
                summary.held = std::move(sent->held);
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
    [done, summary,
     id = built->message_id](caf::expected<imap::append_result> saved) mutable {
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
void compose(account_self self, mime::compose_request request,
             send_rules rules, then_fn<mime::composed_message> done) {
  auto& st = self->state;
  st.last_activity = account_state::clock::now();
  if (has_references(request.message)) {
    auto message = std::move(request.message);
    resolve_attachments(
      self, std::move(message), 0,
      [self, request, rules,
       done](caf::expected<mime::outgoing_message> m) mutable {
        if (!m)
          return done(std::move(m.error()));
        request.message = std::move(*m);
        compose(self, std::move(request), std::move(rules), std::move(done));
      });
    return;
  }
  self
    ->request(st.directory, helper_timeout, atom::get_v, st.ref.user,
              st.ref.account)
    .then(
      [self, request, rules, done](account_settings& settings) mutable {
        if (!request.draft && !settings.has_smtp)
          return done(caf::make_error(ec::not_supported,
                                      "this account has no SMTP server "
                                      "configured, so it cannot send mail"));
        if (request.kind == mime::compose_kind::new_message) {
          auto msg = request.message;
          auto from = choose_sender(settings, msg.from, {});
          if (!from)
            return done(std::move(from.error()));
          msg.from = std::move(*from);
          return deliver_composed(self, std::move(msg), request.draft, rules,
                                  done);
        }
        // Checked before the original is read: a wrong `from` costs no
        // IMAP round trip.
        if (auto from = choose_sender(settings, request.message.from, {});
            !from)
          return done(std::move(from.error()));
        bool forward = request.kind == mime::compose_kind::forward;
        with_connection<mime::original_message>(
          self, caf::actor_addr{},
          [self, request, rules, done, settings,
           forward](caf::expected<mime::original_message> original) mutable {
            if (!original)
              return done(std::move(original.error()));
            auto own = sender_addresses(settings);
            auto msg = forward ? mime::compose_forward(*original, request)
                               : mime::compose_reply(*original, request, own);
            // Answered from the address it was sent to, as mail clients
            // do with identities.
            auto from = choose_sender(settings, request.message.from,
                                      mime::addressed_to(*original, own));
            if (!from)
              return done(std::move(from.error()));
            msg.from = std::move(*from);
            deliver_composed(self, std::move(msg), request.draft, rules, done);
          },
          atom::original_v, request.folder, request.uid, forward,
          self->state.opts.max_send_attachment_bytes);
      },
      [done](caf::error& err) mutable { done(err); });
}

} // namespace

caf::result<sent_message> send_message(account_self self,
                                       const mime::outgoing_message& msg,
                                       const send_rules& rules) {
  auto rp = self->make_response_promise<sent_message>();
  send_mail(self, msg, rules, deliver_to(rp));
  return rp;
}

caf::result<sent_message> deliver_message(account_self self,
                                          const mime::built_message& built) {
  auto rp = self->make_response_promise<sent_message>();
  auto& st = self->state;
  st.last_activity = account_state::clock::now();
  auto done = deliver_to(rp);
  self
    ->request(st.directory, helper_timeout, atom::get_v, st.ref.user,
              st.ref.account)
    .then(
      [self, built, done](account_settings& settings) mutable {
        deliver_built(self, std::move(settings), std::move(built), done);
      },
      [done](caf::error& err) mutable { done(err); });
  return rp;
}

caf::result<mime::composed_message>
compose_message(account_self self, const mime::compose_request& request,
                const send_rules& rules) {
  auto rp = self->make_response_promise<mime::composed_message>();
  compose(self, request, rules, deliver_to(rp));
  return rp;
}

} // namespace postern::detail
