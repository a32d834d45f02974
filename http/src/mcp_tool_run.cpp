// SPDX-License-Identifier: Apache-2.0
// One tool call against the mailbox's ACCOUNT (or the MAIL ROUTER, which
// starts it): the request per tool, previews for
// includeBody, and the sentence of a failed request.

#include "mcp_tool_run.hpp"

#include "postern/clock.hpp"
#include "postern/error.hpp"
#include "postern/log.hpp"
#include "postern/mcp/json.hpp"

#include <caf/sec.hpp>

#include <chrono>
#include <utility>

namespace postern::http {

namespace {

using endpoint_ptr = std::shared_ptr<mcp_endpoint::impl>;

/// A sentence for a failed mail request.
std::string mail_failure(const caf::error& err, std::chrono::seconds timeout) {
  if (err == caf::sec::request_timeout)
    return "The mail server did not answer within "
           + std::to_string(timeout.count())
           + (timeout.count() == 1 ? " second" : " seconds")
           + "; try again later.";
  if (err == caf::sec::request_receiver_down || err == ec::shutting_down)
    return "The mail service is restarting; try again in a moment.";
  if (err.category() == caf::atom("postern"))
    return describe(err);
  POSTERN_WARN("mcp: mail request failed: {}", render(err));
  return "The mail request failed unexpectedly; try again later.";
}

/// The short reason in the audit log.
std::string outcome_of(const caf::error& err) {
  if (err.category() == caf::atom("postern"))
    return to_string(static_cast<ec>(err.code()));
  if (err == caf::sec::request_timeout)
    return "timed_out";
  return "failed";
}

/// Runs one validated tool call against the mail engine and hands the
/// CallToolResult (JSON) and the audit outcome to `done`.
class tool_run {
public:
  using done_fn = tool_done_fn;

  tool_run(endpoint_ptr ep, caf::event_based_actor* self, tool_target target,
           done_fn done)
    : ep_(std::move(ep)),
      self_(self),
      ref_(std::move(target.ref)),
      done_(std::move(done)),
      account_label_(std::move(target.account_label)),
      send_(std::move(target.send)),
      grant_(std::move(target.grant)),
      client_name_(std::move(target.client_name)),
      label_(std::move(target.label)),
      held_(std::move(target.held)) {
    // nop
  }

  void operator()(const mcp::list_accounts_args&) {
    // tools_call answers it from the token before any run starts; should a
    // path ever get here, the call still gets an answer rather than none.
    fail("list_accounts could not be answered; try again.", "failed");
  }

  void operator()(const mcp::list_folders_args& a) {
    ask(
      [this](std::vector<imap::folder>& folders) {
        ok(mcp::encode_folders(folders));
      },
      atom::folders_v, ref_, a.include_counts);
  }

  void operator()(const mcp::list_messages_args& a) {
    auto include_body = a.include_body;
    auto folder = a.folder;
    ask(
      [this, include_body, folder](imap::message_page& page) {
        if (!include_body || page.messages.empty())
          return ok(mcp::encode_page(page, nullptr));
        with_previews(folder, page.messages,
                      [this, page](const std::vector<imap::read_outcome>* p) {
                        ok(mcp::encode_page(page, p));
                      });
      },
      atom::messages_v, ref_, a.folder, a.page);
  }

  void operator()(const mcp::read_message_args& a) {
    auto several = a.several;
    auto folder = a.folder;
    ask(
      [this, several, folder](std::vector<imap::read_outcome>& outcomes) {
        if (!several && !outcomes.empty() && outcomes.front().error)
          return failed(outcomes.front().error);
        ok(mcp::encode_read(outcomes, several, ref_.account.value, folder));
      },
      atom::read_v, ref_, a.folder, a.uids, a.window);
  }

  void operator()(const mcp::search_messages_args& a) {
    if (a.folder == mcp::every_folder)
      return search_everywhere(a);
    auto include_body = a.include_body;
    auto folder = a.folder;
    ask(
      [this, include_body, folder](imap::search_result& found) {
        if (!include_body || found.messages.empty())
          return ok(mcp::encode_search(found, nullptr));
        with_previews(folder, found.messages,
                      [this, found](const std::vector<imap::read_outcome>* p) {
                        ok(mcp::encode_search(found, p));
                      });
      },
      atom::search_v, ref_, a.folder, a.query);
  }

  void operator()(const mcp::move_message_args& a) {
    ask([this, a](imap::move_result& moved) { ok(mcp::encode_move(a, moved)); },
        atom::move_v, ref_, a.folder, a.uid, a.destination);
  }

  void operator()(const mcp::flag_message_args& a) {
    ask([this](imap::flag_result& flagged) { ok(mcp::encode_flag(flagged)); },
        atom::flag_v, ref_, a.folder, a.uid, a.change);
  }

  void operator()(const mcp::send_mail_args& a) {
    // The answer names the sender only when the agent chose one.
    bool chose = !a.message.from.address.empty();
    ask(
      [this, chose](sent_message& sent) {
        if (!chose)
          sent.from.clear();
        if (!sent.awaiting_approval)
          return ok(mcp::encode_sent(sent.message_id, sent.from,
                                     sent.sent_folder, sent.sent_uid,
                                     sent.save_error));
        auto id = sent.message_id;
        auto from = sent.from;
        hold(std::move(sent.held),
             [this, id, from](const mcp::held_notice& held) {
               held_ok(mcp::encode_sent(id, from, "", 0, "", &held));
             });
      },
      atom::send_v, ref_, a.message, send_);
  }

  void operator()(const mcp::get_send_status_args& a) {
    if (!ep_->actors.outbox)
      return failed(caf::make_error(ec::shutting_down,
                                    "The outbox is not running."));
    self_
      ->request(ep_->actors.outbox, caf::infinite, atom::get_v,
                ref_.user, a.outbox_id)
      .then(
        [this](outbox_entry& entry) {
          // Only the connection that asked sees its messages.
          if (entry.grant != grant_)
            return failed(caf::make_error(
              ec::no_such_message,
              "There is no held message with that outboxId on this "
              "connection."));
          ok(mcp::encode_send_status(entry, approve_url(entry.id)));
        },
        [this](const caf::error& err) {
          if (err == ec::no_such_message)
            return failed(caf::make_error(
              ec::no_such_message,
              "There is no held message with that outboxId on this "
              "connection."));
          failed(err);
        });
  }

  // -- organizing tools -----------------------------------------------------

  void operator()(const mcp::get_thread_args& a) {
    ask([this,
         a](imap::thread_result& found) { ok(mcp::encode_thread(a, found)); },
        atom::thread_v, ref_, a.folder, a.uid);
  }

  void operator()(const mcp::folder_change_args& a) {
    ask(
      [this, a](imap::folder& result) {
        ok(mcp::encode_folder_change(a.change, result));
      },
      atom::folder_op_v, ref_, a.change);
  }

  void operator()(const mcp::bulk_change_args& a) {
    ask(
      [this](imap::bulk_result& result) {
        // Nothing changed (e.g. an unknown UID): a tool error, with the
        // reason as its sentence.
        if (auto sentence = mcp::bulk_failure(result); !sentence.empty())
          return fail(sentence,
                      result.outcomes.empty() || !result.outcomes.front().error
                        ? std::string{"failed"}
                        : outcome_of(result.outcomes.front().error));
        ok(mcp::encode_bulk(result));
      },
      atom::bulk_v, ref_, a.request);
  }

  /// search_messages with folder "*".
  void search_everywhere(const mcp::search_messages_args& a) {
    auto include_body = a.include_body;
    ask(
      [this, include_body](imap::multi_search_result& found) {
        if (!include_body || found.messages.empty())
          return ok(mcp::encode_search_everywhere(found, nullptr));
        with_previews_everywhere(std::move(found));
      },
      atom::search_all_v, ref_, a.query);
  }

  /// Reads the start of each found message's text, one read per folder (in
  /// parallel); a failed read only costs that folder's previews.
  void with_previews_everywhere(imap::multi_search_result found) {
    struct gathering {
      imap::multi_search_result found;
      std::vector<imap::read_outcome> previews;
      size_t waiting = 0;
    };
    auto g = std::make_shared<gathering>();
    g->found = std::move(found);
    g->previews.resize(g->found.messages.size());
    std::map<std::string, std::vector<uint32_t>> by_folder;
    for (auto& m : g->found.messages)
      by_folder[m.folder].push_back(m.summary.uid);
    g->waiting = by_folder.size();
    imap::read_options window;
    window.max_length = mcp::preview_chars;
    auto finish_one = [this, g] {
      if (--g->waiting == 0)
        ok(mcp::encode_search_everywhere(g->found, &g->previews));
    };
    for (auto& [folder, uids] : by_folder) {
      ask_or(
        [g, folder = folder,
         finish_one](std::vector<imap::read_outcome>& outcomes) {
          for (auto& o : outcomes)
            for (size_t i = 0; i < g->found.messages.size(); ++i)
              if (g->found.messages[i].folder == folder
                  && g->found.messages[i].summary.uid == o.uid)
                g->previews[i] = o;
          finish_one();
        },
        [finish_one](const caf::error& err) {
          POSTERN_DEBUG("mcp: previews failed: {}", render(err));
          finish_one();
        },
        atom::read_v, ref_, folder, uids, window);
    }
  }

  // -- composing
  // ----------------------------------------------------------------

  void operator()(const mcp::get_attachment_args& a) {
    if (a.as_link)
      return link_to(a, {});
    // A part above the inline limits comes as a link instead of an error.
    ask_or(
        [this, folder = a.folder](mime::attachment_content& part) {
          finish(mcp::attachment_result(folder, part, ref_.account.value),
                 "ok");
        },
        [this, a](const caf::error& err) {
          if (err == ec::too_large)
            return link_to(a, describe(err)
                                + "; here is a download link for the person "
                                  "instead.");
          failed(err);
        },
        atom::attachment_v, ref_, a.folder, a.uid, a.part_id);
  }

  void operator()(const mcp::compose_args& a) {
    auto draft = a.request.draft;
    ask(
      [this, draft](mime::composed_message& composed) {
        if (draft || !composed.awaiting_approval)
          return ok(mcp::encode_composed(composed, draft));
        auto held = std::move(composed.held);
        hold(std::move(held),
             [this, composed](const mcp::held_notice& notice) {
               held_ok(mcp::encode_composed(composed, false, &notice));
             });
      },
      atom::compose_v, ref_, a.request, send_);
  }

  /// Lets go of the CALL WATCHER's ticket, once.
  void end_watch() {
    if (watch_ticket_ != 0)
      ep_->deadlines->finished(std::exchange(watch_ticket_, 0));
  }

  /// The CALL WATCHER's ticket of this run (see watch_run).
  void watched_as(uint64_t ticket) {
    watch_ticket_ = ticket;
  }

  /// Holds the run's actor until end(): with no timer on its requests,
  /// nothing else may (a request's receiver lets go of its sender once it
  /// has answered or dropped it), and CAF ends an actor nobody can reach.
  /// The cycle (actor -> run -> actor) is broken by end() or, if the actor
  /// ends otherwise, by its cleanup, which drops the run.
  void keep_alive(caf::actor self) {
    alive_ = std::move(self);
  }

  /// The actor is ending (its cleanup): lets go of the watch and of the
  /// actor, whichever way it ended (an answer, an exit, an exception).
  void ended() {
    end_watch();
    alive_ = nullptr;
  }

  /// The call was ended before its answer came (the server is stopping).
  void stopped() {
    failed(caf::make_error(ec::shutting_down, "the server is stopping"));
  }

  /// The call's TOOL_TIMEOUT has passed (the CALL WATCHER says so; no
  /// request of the run carries a timer of its own).
  void timed_out() {
    failed(caf::make_error(caf::sec::request_timeout));
  }

  // -- resources/read
  // -----------------------------------------------------------

  /// One message as its read_message answer, or one part decoded, as
  /// resource contents. A part above the inline limits is a failure
  /// carrying a download link for the person.
  void read_resource(const mcp::mail_resource& r) {
    auto uri = mcp::to_uri(r);
    if (r.part_id.empty()) {
      imap::read_options window;
      // As much text as read_message gives one message by default.
      window.max_length = mcp::text_per_call;
      ask(
        [this, uri, folder = r.folder](
          std::vector<imap::read_outcome>& outcomes) {
          if (!outcomes.empty() && outcomes.front().error)
            return failed(outcomes.front().error);
          finish(mcp::message_contents(
                   uri, mcp::encode_read(outcomes, false, ref_.account.value,
                                         folder)),
                 "ok");
        },
        atom::read_v, ref_, r.folder, std::vector<uint32_t>{r.uid}, window);
      return;
    }
    ask_or(
        [this, uri](mime::attachment_content& part) {
          finish(mcp::part_contents(uri, part), "ok");
        },
        [this, r, uri](const caf::error& err) {
          if (err != ec::too_large)
            return failed(err);
          auto link = make_link(r.folder, r.uid, r.part_id);
          mcp::json_writer data;
          data.begin_object()
            .key("uri")
            .string(uri)
            .key("url")
            .string(link.url)
            .key("expiresAt")
            .string(iso8601_utc(link.expires_at))
            .end_object();
          fail("The resource is too large to read inline (" + describe(err)
                 + "); the person can download it from the url in this "
                   "error's data until it expires.",
               "link", data.take());
        },
        atom::attachment_v, ref_, r.folder, r.uid, r.part_id);
  }

private:
  /// Answers get_attachment with a download link to the part, made for
  /// this grant; the part is described (its structure read) first, so a
  /// link is only ever made to a part that exists.
  void link_to(const mcp::get_attachment_args& a, std::string reason) {
    mime::attachment_limits describe_only;
    describe_only.describe_only = true;
    ask(
      [this, a, reason](mime::attachment_content& part) {
        auto link = make_link(a.folder, a.uid, a.part_id);
        link.reason = reason;
        // The audit log tells links from content.
        finish(mcp::attachment_link_result(a.folder, part, link,
                                           ref_.account.value),
               "link");
      },
      atom::download_v, ref_, a.folder, a.uid, a.part_id, describe_only);
  }

  /// A download link to one part, made for this grant.
  mcp::attachment_link make_link(const std::string& folder, uint32_t uid,
                                 const std::string& part_id) const {
    file_link l;
    l.user = ref_.user;
    l.grant = grant_;
    l.account = ref_.account;
    l.folder = folder;
    l.uid = uid;
    l.part_id = part_id;
    l.expires_at = unix_seconds() + ep_->settings.link_ttl.count();
    mcp::attachment_link link;
    link.url = ep_->settings.base_url + "/files/" + ep_->settings.links->seal(l);
    link.expires_at = l.expires_at;
    return link;
  }

  /// <BASE_URL>/outbox/<id>: where the person sends or discards it.
  std::string approve_url(const std::string& id) const {
    return ep_->settings.base_url + "/outbox/" + id;
  }

  /// Puts a message the ACCOUNT built and did not send into the person's
  /// outbox, then tells `then` where the person approves it. If the
  /// outbox refuses (full), the call fails and nothing is sent.
  template <class F>
  void hold(held_message message, F then) {
    if (!ep_->actors.outbox)
      return failed(caf::make_error(
        ec::shutting_down, "The outbox is not running; nothing was sent."));
    outbox_entry entry;
    entry.user = ref_.user;
    entry.account = ref_.account;
    entry.grant = grant_;
    entry.client_name = client_name_;
    entry.account_label = label_;
    entry.message = std::move(message);
    self_
      ->request(ep_->actors.outbox, caf::infinite, atom::hold_v,
                std::move(entry))
      .then(
        [this, then](outbox_entry& stored) mutable {
          if (held_)
            *held_ = held_for_yes{stored.id, approve_url(stored.id)};
          then(mcp::held_notice{stored.id, approve_url(stored.id),
                                stored.expires});
        },
        [this](const caf::error& err) { failed(err); });
  }

  /// Asks the mailbox's ACCOUNT; a failure ends the call with its sentence.
  template <class OnReply, class... Ts>
  void ask(OnReply on_reply, Ts... xs) {
    ask_or(std::move(on_reply), [this](const caf::error& err) { failed(err); },
           xs...);
  }

  /// Asks the mailbox's running ACCOUNT straight (one hand-off, and no
  /// queue shared with every other tenant), else the MAIL ROUTER, which
  /// starts it; `on_error` decides what a failure means. An ACCOUNT that
  /// ended after the index named it (idle, forgotten, failed) answers
  /// request_receiver_down before doing anything, so the call is asked of
  /// the router once more.
  template <class OnReply, class OnError, class... Ts>
  void ask_or(OnReply on_reply, OnError on_error, Ts... xs) {
    if (!ep_->actors.mail)
      return failed(
        caf::make_error(ec::shutting_down, "The mail service is not running."));
    auto account = ep_->actors.accounts ? ep_->actors.accounts->find(ref_)
                                        : std::nullopt;
    if (!account)
      return ask_router(std::move(on_reply), std::move(on_error), xs...);
    self_->request(*account, caf::infinite, xs...)
      .then(on_reply, [this, on_reply, on_error,
                       xs...](const caf::error& err) mutable {
        if (err == caf::sec::request_receiver_down)
          return ask_router(std::move(on_reply), std::move(on_error), xs...);
        on_error(err);
      });
  }

  /// Asks the MAIL ROUTER.
  template <class OnReply, class OnError, class... Ts>
  void ask_router(OnReply on_reply, OnError on_error, Ts... xs) {
    self_->request(ep_->actors.mail, caf::infinite, xs...)
      .then(std::move(on_reply), std::move(on_error));
  }

  /// Reads the start of each message's text (includeBody); a failure only
  /// costs the previews, not the listing.
  template <class F>
  void with_previews(const std::string& folder,
                     const std::vector<imap::message_summary>& messages,
                     F then) {
    std::vector<uint32_t> uids;
    for (auto& m : messages)
      uids.push_back(m.uid);
    imap::read_options window;
    window.max_length = mcp::preview_chars;
    ask_or(
      [then](std::vector<imap::read_outcome>& outcomes) mutable {
        then(&outcomes);
      },
      [then](const caf::error& err) mutable {
        POSTERN_DEBUG("mcp: previews failed: {}", render(err));
        then(nullptr);
      },
      atom::read_v, ref_, folder, uids, window);
  }

  void ok(std::string structured) {
    finish(mcp::tool_success(structured), "ok");
  }

  /// A sending tool's message waits for the person's yes (the activity
  /// log says so instead of "ok").
  void held_ok(std::string structured) {
    finish(mcp::tool_success(structured), "awaiting_approval");
  }

  void failed(const caf::error& err) {
    auto sentence = mail_failure(err, ep_->settings.tool_timeout);
    // With several accounts, the agent must know which one failed.
    if (!account_label_.empty())
      sentence = "Account " + mcp::quote(account_label_) + ": " + sentence;
    fail(std::move(sentence), outcome_of(err));
  }

  void finish(std::string result, std::string outcome) {
    tool_answer answer;
    answer.result = std::move(result);
    answer.outcome = std::move(outcome);
    done_(std::move(answer));
    end();
  }

  /// The call has its answer: its actor ends (see watch_run), and the
  /// ACCOUNT drops whatever it still had queued for it.
  void end() {
    ended();
    self_->quit(caf::exit_reason::user_shutdown);
  }

  /// Ends the call as a tool error saying `sentence`.
  void fail(std::string sentence, std::string outcome,
            std::string failure_data = {}) {
    tool_answer answer;
    answer.result = mcp::tool_failure(sentence);
    answer.outcome = std::move(outcome);
    answer.failure = std::move(sentence);
    answer.failure_data = std::move(failure_data);
    done_(std::move(answer));
    end();
  }

  endpoint_ptr ep_;
  caf::event_based_actor* self_;
  mailbox_ref ref_;
  done_fn done_;
  /// Empty when the connection reaches one account only.
  std::string account_label_;
  send_rules send_;
  grant_id grant_;
  std::string client_name_;
  std::string label_;
  std::shared_ptr<held_for_yes> held_;
  caf::actor alive_;
  uint64_t watch_ticket_ = 0;
};

/// Keeps `self` and `run` alive until the run has answered, and gives it
/// TOOL_TIMEOUT (call before starting the run): the CALL
/// WATCHER ends `self` with reason request_timeout when it is late, and
/// the run answers with the timeout sentence first. Any other exit (the
/// server stopping, the client hanging up) answers that the mail service
/// is restarting.
void watch_run(const std::shared_ptr<mcp_endpoint::impl>& ep,
               caf::event_based_actor* self, std::shared_ptr<tool_run> run) {
  // Without timers on its requests, an actor with no behavior of its own
  // would end before their answers arrive (a pending timeout was what kept
  // it): this one lives until the run has its answer (tool_run::end) or
  // the CALL WATCHER ends it.
  self->become([](atom::tick) {
    // nop: never sent; keeps the actor alive until the run ends it
  });
  run->keep_alive(caf::actor_cast<caf::actor>(self));
  self->set_exit_handler([self, run](caf::exit_msg& msg) {
    if (msg.reason == caf::sec::request_timeout) {
      run->timed_out();
      self->quit(caf::exit_reason::user_shutdown);
      return;
    }
    // The server is stopping (the CALL WATCHER ends what still waits), or
    // the client hung up (then the call is settled already and this answer
    // goes nowhere).
    run->stopped();
    self->quit(std::move(msg.reason));
  });
  // The run lives as long as the actor (its continuations hold `this`).
  // However the actor ends, its cleanup breaks the cycle actor -> run ->
  // actor (CAF holds the actor while it runs, so this is never the last
  // reference while the actor is still in use).
  self->attach_functor([run] { run->ended(); });
  run->watched_as(ep->watch(self->address()));
}

} // namespace

void start_tool_run(const std::shared_ptr<mcp_endpoint::impl>& ep,
                    caf::event_based_actor* self, const tool_target& target,
                    const mcp::tool_args& args, const tool_done_fn& done) {
  auto run = std::make_shared<tool_run>(ep, self, target, done);
  watch_run(ep, self, run);
  std::visit([run](auto& a) { (*run)(a); }, args);
}

void start_resource_read(const std::shared_ptr<mcp_endpoint::impl>& ep,
                         caf::event_based_actor* self,
                         const tool_target& target,
                         const mcp::mail_resource& resource,
                         const tool_done_fn& done) {
  auto run = std::make_shared<tool_run>(ep, self, target, done);
  watch_run(ep, self, run);
  run->read_resource(resource);
}

} // namespace postern::http
