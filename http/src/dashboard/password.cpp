// SPDX-License-Identifier: Apache-2.0
// Changing the password.
#include "shared.hpp"

#include <caf/send.hpp>

namespace postern::http::dashboard {

namespace {

response_type
password_page(const web_session& ws, bhttp::status status, ui::value errors,
              std::string form_error,
              std::vector<std::pair<std::string, std::string>> headers = {}) {
  page p;
  p.title = "Change password";
  p.body = "password";
  p.session = &ws;
  p.nav = "password";
  p.status = status;
  p.headers = std::move(headers);
  p.data.set("username", ws.user.username);
  p.data.set("errors", std::move(errors));
  p.data.set("form_error", std::move(form_error));
  return render_page(p);
}

} // namespace

void get_password(site_ptr s, const request& req, const responder& respond) {
  with_session(s, req, respond, [respond](task, const web_session& ws) {
    respond(password_page(ws, bhttp::status::ok, ui::value::object(), {}));
  });
}

void post_password(site_ptr s, const request& req, const responder& respond) {
  auto address = req.client_address;
  with_session_form(
    s, req, respond,
    [s, respond, address](task self, const web_session& ws,
                          const form_data& form) {
      secret current{form.get("current")};
      secret fresh{form.get("new_password")};
      auto errors = ui::value::object();
      bool bad = false;
      if (current.empty()) {
        errors.set("current", "Enter your current password.");
        bad = true;
      }
      if (auto err = validate_password(ws.user.username, fresh)) {
        errors.set("new_password", sentence(describe(err)));
        bad = true;
      } else if (form.get("confirm") != fresh.reveal()) {
        errors.set("confirm", "The two new passwords differ.");
        bad = true;
      }
      if (bad) {
        respond(password_page(ws, bhttp::status::bad_request, errors, {}));
        return;
      }
      // Guessing the current password is guessing a login.
      if (auto wait = s->throttle->begin(address, ws.user.username); wait > 0) {
        auto page = password_page(ws, bhttp::status::too_many_requests, errors,
                                  throttled_text(wait),
                                  {{"Retry-After", std::to_string(wait)}});
        hold_response(page, refusal_hold(wait));
        respond(std::move(page));
        return;
      }
      self
        ->request(s->actors.directory, page_timeout, atom::change_password_v,
                  ws.user.id, current, fresh)
        .then(
          [s, ws, address, respond](const session_grant& grant) {
            s->throttle->finish(address, ws.user.username, true);
            respond(see_other("/dashboard?notice=password-changed",
                              {session_cookie_header(*s, grant)}));
          },
          [s, ws, address, respond](const caf::error& err) {
            s->throttle->finish(address, ws.user.username, false);
            if (err == ec::invalid_credentials) {
              caf::anon_send(s->actors.directory, atom::audit_v,
                             audit_event{0, ws.user.id, "web",
                                         "password.change", "",
                                         "wrong current password", address});
              auto errs = ui::value::object();
              errs.set("current", "The current password is wrong.");
              respond(password_page(ws, bhttp::status::bad_request, errs, {}));
              return;
            }
            if (err == ec::invalid_argument) {
              auto errs = ui::value::object();
              errs.set("new_password", sentence(describe(err)));
              respond(password_page(ws, bhttp::status::bad_request, errs, {}));
              return;
            }
            respond(error_page(err, &ws));
          });
    });
}

} // namespace postern::http::dashboard
