// SPDX-License-Identifier: Apache-2.0
#include "postern/http/server.hpp"

#include "connection.hpp"
#include "postern/error.hpp"
#include "postern/log.hpp"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>

#include <thread>
#include <vector>

#include <pthread.h>

namespace postern::http {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace ssl = boost::asio::ssl;
using tcp = net::ip::tcp;

using detail::plain_session;
using detail::shared_state;
using detail::tls_session;

// -- server -------------------------------------------------------------------

struct server::impl {
  const config cfg;
  // Declared before the io_context: sessions still queued in it when it is
  // destroyed hold streams that use the TLS context.
  std::optional<ssl::context> tls;
  // One io_context per thread, each connection on one of them: a request
  // and its response stay on one thread, and posting a response back never
  // has to wake a sibling thread (one shared io_context run by several
  // threads spent more time in futex wake-ups than in Postern's code).
  std::vector<std::unique_ptr<net::io_context>> contexts;
  size_t next_context = 0;
  // Keep each context's run() going while its connections wait for actors
  // (no I/O is pending then, and run() would return).
  std::vector<net::executor_work_guard<net::io_context::executor_type>> busy;
  tcp::acceptor acceptor;
  std::shared_ptr<shared_state> shared = std::make_shared<shared_state>();
  std::vector<std::thread> threads;
  uint16_t bound_port = 0;
  unsigned thread_count;

  explicit impl(const config& c)
    : cfg(c),
      contexts(make_contexts(threads_for(c))),
      acceptor(*contexts.front()),
      thread_count(threads_for(c)) {
    shared->max_body_bytes = c.max_body_bytes;
    shared->request_timeout = std::chrono::seconds(c.request_timeout_seconds);
    shared->idle_timeout = std::chrono::seconds(c.idle_timeout_seconds);
    shared->proxies = proxy_trust::from(c);
  }

  static std::vector<std::unique_ptr<net::io_context>>
  make_contexts(unsigned n) {
    std::vector<std::unique_ptr<net::io_context>> result;
    for (unsigned i = 0; i < n; ++i)
      result.push_back(std::make_unique<net::io_context>(1));
    return result;
  }

  /// The io_context of the next connection (round robin; the acceptor's
  /// handler runs on one thread only).
  net::io_context& pick_context() {
    auto& ctx = *contexts[next_context];
    next_context = (next_context + 1) % contexts.size();
    return ctx;
  }

  static unsigned threads_for(const config& c) {
    if (c.http_threads > 0)
      return c.http_threads;
    return std::max(1u, std::thread::hardware_concurrency());
  }

  caf::error load_tls() {
    tls.emplace(ssl::context::tls_server);
    tls->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2
                     | ssl::context::no_sslv3 | ssl::context::no_tlsv1
                     | ssl::context::no_tlsv1_1 | ssl::context::single_dh_use);
    beast::error_code ec;
    tls->use_certificate_chain_file(cfg.tls_cert_file, ec);
    if (ec)
      return caf::make_error(ec::invalid_configuration,
                             "cannot load TLS_CERT_FILE " + cfg.tls_cert_file
                               + ": " + ec.message());
    tls->use_private_key_file(cfg.tls_key_file, ssl::context::pem, ec);
    if (ec)
      return caf::make_error(ec::invalid_configuration,
                             "cannot load TLS_KEY_FILE " + cfg.tls_key_file
                               + ": " + ec.message());
    return caf::none;
  }

  void do_accept() {
    acceptor.async_accept(pick_context(), [this](beast::error_code ec,
                                                 tcp::socket socket) {
      if (ec) {
        if (ec == net::error::operation_aborted || !acceptor.is_open())
          return;
        // Out of descriptors and the like: log, back off a little, retry.
        POSTERN_WARN("http: accept failed: {}", ec.message());
      } else {
        on_accept(std::move(socket));
      }
      if (!shared->stopping)
        do_accept();
    });
  }

  void on_accept(tcp::socket socket) {
    beast::error_code ec;
    auto endpoint = socket.remote_endpoint(ec);
    std::string peer = ec ? std::string{"unknown"}
                          : endpoint.address().to_string();
    socket.set_option(tcp::no_delay{true}, ec);
    if (tls) {
      auto s = std::make_shared<tls_session>(std::move(socket), *tls, shared,
                                             std::move(peer));
      shared->add(s);
      start(s);
    } else {
      auto s = std::make_shared<plain_session>(std::move(socket), shared,
                                               std::move(peer));
      shared->add(s);
      start(s);
    }
  }

  /// Starts a session on its own thread (the acceptor runs on another).
  template <class Session>
  static void start(const std::shared_ptr<Session>& s) {
    net::dispatch(s->stream().get_executor(), [s] { s->run(); });
  }
};

server::server(const config& cfg) : impl_(std::make_unique<impl>(cfg)) {
  // nop
}

server::~server() {
  if (!impl_->threads.empty())
    shutdown(std::chrono::milliseconds(0));
}

caf::error server::bind() {
  auto& d = *impl_;
  if (d.cfg.tls_enabled())
    if (auto err = d.load_tls())
      return err;
  beast::error_code ec;
  auto address = net::ip::make_address(d.cfg.bind, ec);
  if (ec)
    return caf::make_error(ec::invalid_configuration,
                           "BIND is not an IP address: \"" + d.cfg.bind + "\"");
  tcp::endpoint endpoint{address, d.cfg.port};
  auto fail = [&](const char* what) {
    return caf::make_error(
      ec::invalid_configuration,
      std::string{"cannot "} + what + " " + endpoint.address().to_string() + ":"
        + std::to_string(endpoint.port()) + ": " + ec.message());
  };
  d.acceptor.open(endpoint.protocol(), ec);
  if (ec)
    return fail("open a socket for");
  d.acceptor.set_option(net::socket_base::reuse_address(true), ec);
  d.acceptor.bind(endpoint, ec);
  if (ec)
    return fail("listen on");
  d.acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec)
    return fail("listen on");
  d.bound_port = d.acceptor.local_endpoint().port();
  return caf::none;
}

void server::run(std::shared_ptr<const router> routes) {
  auto& d = *impl_;
  d.shared->routes = std::move(routes);
  d.do_accept();
  for (auto& ctx : d.contexts) {
    d.busy.push_back(net::make_work_guard(*ctx));
    d.threads.emplace_back([&ctx] {
      // Named for top, perf and /proc/PID/task: "which thread spends it".
      pthread_setname_np(pthread_self(), "postern-http");
      ctx->run();
    });
  }
}

uint16_t server::port() const {
  return impl_->bound_port;
}

size_t server::connections() const {
  return impl_->shared->count();
}

void server::shutdown(std::chrono::milliseconds grace) {
  auto& d = *impl_;
  if (d.threads.empty())
    return;
  d.shared->stopping = true;
  net::post(d.acceptor.get_executor(), [&d] {
    beast::error_code ec;
    d.acceptor.close(ec);
  });
  // Ask every connection to finish; repeat for ones accepted meanwhile.
  auto deadline = std::chrono::steady_clock::now() + grace;
  for (;;) {
    for (auto& c : d.shared->snapshot())
      c->begin_shutdown();
    if (d.shared->count() == 0 || std::chrono::steady_clock::now() >= deadline)
      break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (auto left = d.shared->count(); left > 0)
    POSTERN_WARN("http: {} connection(s) still busy after the grace period; "
                 "closing them",
                 left);
  d.busy.clear();
  for (auto& ctx : d.contexts)
    ctx->stop();
  for (auto& t : d.threads)
    t.join();
  d.threads.clear();
}

} // namespace postern::http
