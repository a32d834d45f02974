// SPDX-License-Identifier: Apache-2.0
// Messages held for the person's yes: the dashboard's "Waiting for your
// yes" card, the page an approval URL opens (/outbox/<id>), the list of
// them (/outbox), and Send and Discard. The OUTBOX owns them; these pages
// only show them and pass the person's decision on.
#include "postern/clock.hpp"
#include "postern/error.hpp"
#include "postern/log.hpp"
#include "shared.hpp"

namespace postern::http::dashboard {

namespace {

/// Sending an approved message can take a slow mail server's while.
constexpr auto send_timeout = std::chrono::minutes(3);

std::string joined(const std::vector<std::string>& xs) {
  std::string out;
  for (auto& x : xs) {
    if (!out.empty())
      out += ", ";
    out += x;
  }
  return out;
}

std::string status_words(const outbox_entry& e) {
  switch (e.status) {
    case outbox_status::sent:
      return "Sent " + format_time(e.decided) + ".";
    case outbox_status::discarded:
      return "Discarded " + format_time(e.decided) + "; it was not sent.";
    case outbox_status::expired:
      return "Expired unsent " + format_time(e.decided) + ".";
    case outbox_status::pending:
      break;
  }
  return "Waiting for your yes.";
}

/// `back` is where Send and Discard return to ("/dashboard" or the
/// message's own page).
ui::value held_view(const outbox_entry& e, const std::string& back) {
  auto v = ui::value::object();
  auto& m = e.message;
  v.set("id", e.id);
  v.set("subject", m.subject);
  v.set("from", m.from);
  v.set("to_line", joined(m.to));
  v.set("cc_line", joined(m.cc));
  v.set("bcc_line", joined(m.bcc));
  v.set("text", m.text);
  auto files = ui::value::list();
  for (auto& a : m.attachments)
    files.push(ui::value::object().set("name", a));
  v.set("has_attachments", !m.attachments.empty());
  v.set("attachments", std::move(files));
  v.set("account_label", e.account_label);
  v.set("client", e.client_name.empty() ? std::string{"An agent"}
                                        : e.client_name);
  v.set("created", format_time(e.created));
  v.set("created_iso", iso_time(e.created));
  v.set("expires", format_time(e.expires));
  v.set("expires_iso", iso_time(e.expires));
  v.set("pending", e.status == outbox_status::pending);
  v.set("status", std::string{to_string(e.status)});
  v.set("status_words", status_words(e));
  v.set("error", e.error);
  v.set("back", back);
  return v;
}

/// The notice after a decision, by the outcome the redirect names.
void respond_decided(const responder& respond, const std::string& back,
                     const outbox_entry& e) {
  auto notice = e.status == outbox_status::sent ? "outbox_sent"
                                                : "outbox_discarded";
  auto target = back == "/dashboard" ? std::string{"/dashboard"}
                                     : "/outbox/" + e.id;
  respond(see_other(target + "?notice=" + notice));
}

/// The page of a refusal of the OUTBOX.
response_type refused_page(const caf::error& err, const web_session& ws) {
  if (err == ec::no_such_message)
    return not_found_page(&ws, "There is no such message in your outbox.");
  if (err == ec::invalid_request)
    return message_page(bhttp::status::conflict, "Already decided",
                        describe(err), &ws);
  if (err == ec::smtp_failure)
    return message_page(bhttp::status::bad_gateway, "Not sent",
                        describe(err), &ws);
  return error_page(err, &ws);
}

void get_outbox_list(site_ptr s, const request& req, const responder& respond) {
  auto notice = notice_text(form_data::parse(req.query()).get("notice"));
  with_session(s, req, respond,
               [s, respond, notice](task self, const web_session& ws) {
                 self
                   ->request(s->actors.outbox, page_timeout, atom::list_v,
                             ws.user.id)
                   .then(
                     [respond, ws,
                      notice](const std::vector<outbox_entry>& entries) {
                       page p;
                       p.title = "Outbox";
                       p.body = "outbox";
                       p.session = &ws;
                       p.nav = "dashboard";
                       p.notice = notice;
                       auto pending = ui::value::list();
                       auto decided = ui::value::list();
                       for (auto& e : entries)
                         (e.status == outbox_status::pending ? pending
                                                             : decided)
                           .push(held_view(e, "/outbox/" + e.id));
                       p.data.set("has_pending", pending.truthy());
                       p.data.set("pending", std::move(pending));
                       p.data.set("has_decided", decided.truthy());
                       p.data.set("decided", std::move(decided));
                       respond(render_page(p));
                     },
                     fail_page(respond, ws));
               });
}

void get_outbox_entry(site_ptr s, const request& req, const responder& respond,
                      std::string id) {
  auto notice = notice_text(form_data::parse(req.query()).get("notice"));
  with_session(
    s, req, respond, [s, respond, notice, id](task self, const web_session& ws) {
      self->request(s->actors.outbox, page_timeout, atom::get_v, ws.user.id, id)
        .then(
          [respond, ws, notice](const outbox_entry& e) {
            page p;
            p.title = e.status == outbox_status::pending
                        ? "Send this message?"
                        : "A held message";
            p.body = "outbox_message";
            p.session = &ws;
            p.nav = "dashboard";
            p.notice = notice;
            p.data.set("held", held_view(e, "/outbox/" + e.id));
            respond(render_page(p));
          },
          [respond, ws](const caf::error& err) {
            respond(refused_page(err, ws));
          });
    });
}

void post_outbox_decision(site_ptr s, const request& req,
                          const responder& respond, std::string id,
                          bool send) {
  with_session_form(
    s, req, respond,
    [s, respond, id, send](task self, const web_session& ws,
                           const form_data& form) {
      auto back = form.get("back") == "/dashboard" ? std::string{"/dashboard"}
                                                   : std::string{};
      auto on_done = [respond, back](const outbox_entry& e) {
        respond_decided(respond, back, e);
      };
      auto on_error = [respond, ws](const caf::error& err) {
        respond(refused_page(err, ws));
      };
      if (send)
        self
          ->request(s->actors.outbox, send_timeout, atom::send_v, ws.user.id,
                    id)
          .then(on_done, on_error);
      else
        self
          ->request(s->actors.outbox, page_timeout, atom::discard_v,
                    ws.user.id, id)
          .then(on_done, on_error);
    });
}

} // namespace

ui::value held_views(const std::vector<outbox_entry>& entries) {
  auto list = ui::value::list();
  for (auto& e : entries)
    if (e.status == outbox_status::pending)
      list.push(held_view(e, "/dashboard"));
  return list;
}

void get_outbox(site_ptr s, const request& req, const responder& respond) {
  auto path = req.path();
  if (path == "/outbox" || path == "/outbox/")
    return get_outbox_list(std::move(s), req, respond);
  auto id = std::string{path.substr(std::string_view{"/outbox/"}.size())};
  if (!valid_id(id)) {
    respond(not_found_page(nullptr));
    return;
  }
  get_outbox_entry(std::move(s), req, respond, std::move(id));
}

void post_outbox(site_ptr s, const request& req, const responder& respond) {
  auto parts = split_id_path(req.path(), "/outbox/");
  if (!parts || (parts->second != "send" && parts->second != "discard")) {
    respond(not_found_page(nullptr));
    return;
  }
  post_outbox_decision(std::move(s), req, respond, std::move(parts->first),
                       parts->second == "send");
}

} // namespace postern::http::dashboard
