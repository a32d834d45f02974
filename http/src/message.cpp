// SPDX-License-Identifier: Apache-2.0
#include "postern/http/message.hpp"

#include "postern/http/responses.hpp"

#include <atomic>

namespace postern::http {

std::string_view request::path() const {
  auto target = raw.target();
  auto target_view = std::string_view{target.data(), target.size()};
  return target_view.substr(0, target_view.find('?'));
}

std::string_view request::query() const {
  auto target = raw.target();
  auto target_view = std::string_view{target.data(), target.size()};
  auto pos = target_view.find('?');
  return pos == std::string_view::npos ? std::string_view{}
                                       : target_view.substr(pos + 1);
}

struct responder::state {
  sink send;
  std::atomic<bool> done{false};

  ~state() {
    // A handler dropped the request: answer rather than leave the client
    // waiting for a timeout.
    if (!done.exchange(true))
      send(json_error(bhttp::status::internal_server_error, "server_error",
                      "The server could not complete this request."));
  }
};

responder::responder(sink send) : state_(std::make_shared<state>()) {
  state_->send = std::move(send);
}

void responder::operator()(response_type response) const {
  if (!state_->done.exchange(true))
    state_->send(std::move(response));
}

bool responder::done() const {
  return state_->done.load();
}

void client_gone::subscribe(std::function<void()> f) {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    if (!fired_) {
      subscribers_.push_back(std::move(f));
      return;
    }
  }
  f();
}

void client_gone::fire() {
  std::vector<std::function<void()>> run;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    if (fired_)
      return;
    fired_ = true;
    run.swap(subscribers_);
  }
  // Outside the lock: a subscriber may subscribe or ask fired().
  for (auto& f : run)
    f();
}

bool client_gone::fired() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return fired_;
}

} // namespace postern::http
