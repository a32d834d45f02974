// SPDX-License-Identifier: Apache-2.0
#include "postern/http/client_metadata.hpp"

#include "postern/clock.hpp"
#include "postern/error.hpp"
#include "postern/host_policy.hpp"
#include "postern/imap/tls_verify.hpp"
#include "postern/log.hpp"
#include "postern/oauth/uri.hpp"
#include "postern/version.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>


#include <algorithm>
#include <map>
#include <mutex>
#include <thread>

namespace postern::http {

namespace {

namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;
using clock_type = std::chrono::steady_clock;

caf::error refused(std::string sentence) {
  return caf::make_error(ec::invalid_argument, std::move(sentence));
}

/// The address as host_policy reads it; IPv4-mapped IPv6 as IPv4.
net::ip::address plain(const net::ip::address& a) {
  if (a.is_v6() && a.to_v6().is_v4_mapped())
    return net::ip::make_address_v4(net::ip::v4_mapped, a.to_v6());
  return a;
}

} // namespace

struct client_metadata_fetcher::impl
  : std::enable_shared_from_this<client_metadata_fetcher::impl> {
  struct entry {
    oauth::client_metadata doc;
    clock_type::time_point expires;
  };

  options opts;
  host_policy deny = host_policy::deny_private();
  // Declared before the io_context: operations still queued in it when it
  // is destroyed hold streams that use the TLS context.
  ssl::context tls{ssl::context::tls_client};
  net::io_context ioc{1};
  net::executor_work_guard<net::io_context::executor_type> work{
    ioc.get_executor()};
  std::thread thread;

  mutable std::mutex mtx;
  std::map<std::string, entry> cache;
  /// URL -> who waits for its fetch in flight.
  std::map<std::string, std::vector<callback>> waiting;
  /// Fetches in flight per requester and per host.
  std::map<std::string, size_t> by_requester;
  std::map<std::string, size_t> by_host;

  static void release(std::map<std::string, size_t>& counts,
                      const std::string& key) {
    auto i = counts.find(key);
    if (i != counts.end() && --i->second == 0)
      counts.erase(i);
  }
  size_t fetched = 0;

  bool allowed(const net::ip::address& address) const {
    auto a = plain(address);
    if (opts.allow_loopback && a.is_loopback())
      return true;
    return deny.allows_address(a.to_string());
  }

  void remember(const oauth::client_metadata& doc, std::chrono::seconds ttl) {
    if (ttl.count() <= 0)
      return;
    std::lock_guard guard{mtx};
    auto now = steady_now();
    if (cache.size() >= opts.max_cached && cache.count(doc.client_id) == 0) {
      // Expired entries first, then the one closest to expiry.
      for (auto i = cache.begin(); i != cache.end();)
        i = i->second.expires <= now ? cache.erase(i) : std::next(i);
      if (cache.size() >= opts.max_cached)
        cache.erase(
          std::min_element(cache.begin(), cache.end(), [](auto& a, auto& b) {
            return a.second.expires < b.second.expires;
          }));
    }
    cache[doc.client_id] = entry{doc, now + ttl};
  }
};

namespace {

/// One fetch: resolve, check the addresses, connect, TLS, GET, read.
class fetch_op : public std::enable_shared_from_this<fetch_op> {
public:
  using impl = client_metadata_fetcher::impl;

  fetch_op(std::shared_ptr<impl> owner, std::string url,
           oauth::uri_parts url_parts, client_metadata_fetcher::callback done)
    : owner_(std::move(owner)),
      url_(std::move(url)),
      parts_(std::move(url_parts)),
      resolver_(owner_->ioc),
      stream_(owner_->ioc, owner_->tls),
      deadline_(owner_->ioc),
      done_(std::move(done)) {
    // Hosts are written as in the URL; IPv6 literals without brackets.
    host_ = parts_.host;
    if (host_.size() > 2 && host_.front() == '[')
      host_ = host_.substr(1, host_.size() - 2);
    port_ = parts_.port.empty() ? "443" : parts_.port;
  }

  void start() {
    deadline_.expires_after(owner_->opts.timeout);
    deadline_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (!ec)
        self->finish(refused(
          "The client metadata document did not arrive "
          "within "
          + std::to_string(std::chrono::duration_cast<std::chrono::seconds>(
                             self->owner_->opts.timeout)
                             .count())
          + " seconds."));
    });
    resolver_.async_resolve(
      host_, port_,
      [self = shared_from_this()](beast::error_code ec,
                                  tcp::resolver::results_type results) {
        self->on_resolve(ec, std::move(results));
      });
  }

private:
  void on_resolve(beast::error_code ec, tcp::resolver::results_type results) {
    if (finished_)
      return;
    if (ec) {
      finish(refused("The host of the client_id URL cannot be resolved."));
      return;
    }
    // Only addresses that pass the policy are connected to, so a name
    // resolving to an internal address is refused, and DNS cannot change
    // between the check and the connection.
    std::vector<tcp::endpoint> ok;
    for (auto& r : results)
      if (owner_->allowed(r.endpoint().address()))
        ok.push_back(r.endpoint());
    if (ok.empty()) {
      finish(refused("The client_id URL points to a private, loopback or "
                     "link-local address, which Postern does not fetch "
                     "from."));
      return;
    }
    if (!imap::expect_tls_host(stream_.native_handle(), host_)) {
      finish(refused("The host of the client_id URL is not usable for TLS."));
      return;
    }
    beast::get_lowest_layer(stream_).async_connect(
      ok,
      [self = shared_from_this()](beast::error_code e, const tcp::endpoint&) {
        self->on_connect(e);
      });
  }

  void on_connect(beast::error_code ec) {
    if (finished_)
      return;
    if (ec) {
      finish(refused("The server of the client_id URL refused the "
                     "connection."));
      return;
    }
    stream_.async_handshake(ssl::stream_base::client,
                            [self = shared_from_this()](beast::error_code e) {
                              self->on_handshake(e);
                            });
  }

  void on_handshake(beast::error_code ec) {
    if (finished_)
      return;
    if (ec) {
      finish(refused("TLS with the server of the client_id URL failed ("
                     + ec.message() + ")."));
      return;
    }
    req_.method(bhttp::verb::get);
    req_.target(parts_.rest);
    req_.version(11);
    req_.set(bhttp::field::host,
             parts_.host + (parts_.port.empty() ? "" : ":" + parts_.port));
    req_.set(bhttp::field::user_agent, std::string{"Postern/"} + version);
    req_.set(bhttp::field::accept, "application/json");
    req_.set(bhttp::field::connection, "close");
    bhttp::async_write(
      stream_, req_, [self = shared_from_this()](beast::error_code e, size_t) {
        self->on_write(e);
      });
  }

  void on_write(beast::error_code ec) {
    if (finished_)
      return;
    if (ec) {
      finish(refused("Sending the request for the client metadata document "
                     "failed."));
      return;
    }
    parser_.emplace();
    parser_->header_limit(16 * 1024);
    parser_->body_limit(owner_->opts.max_bytes);
    bhttp::async_read(stream_, buffer_, *parser_,
                      [self = shared_from_this()](beast::error_code e, size_t) {
                        self->on_read(e);
                      });
  }

  void on_read(beast::error_code ec) {
    if (finished_)
      return;
    if (ec == bhttp::error::body_limit || ec == bhttp::error::header_limit) {
      finish(refused("The client metadata document is larger than "
                     + std::to_string(owner_->opts.max_bytes / 1024)
                     + " KiB."));
      return;
    }
    if (ec) {
      finish(refused("Reading the client metadata document failed."));
      return;
    }
    auto& res = parser_->get();
    auto status = res.result_int();
    if (status >= 300 && status < 400) {
      finish(refused("The client_id URL answered with a redirect, which is "
                     "not followed."));
      return;
    }
    if (status != 200) {
      finish(refused("The client_id URL answered HTTP " + std::to_string(status)
                     + "."));
      return;
    }
    auto doc = oauth::parse_client_metadata(url_, res.body());
    if (!doc) {
      finish(doc.error());
      return;
    }
    auto cc = res[bhttp::field::cache_control];
    owner_->remember(*doc, oauth::cache_lifetime({cc.data(), cc.size()},
                                                 owner_->opts.default_cache,
                                                 owner_->opts.longest_cache));
    finish(std::move(*doc));
  }

  void finish(caf::expected<oauth::client_metadata> result) {
    if (finished_)
      return;
    finished_ = true;
    deadline_.cancel();
    resolver_.cancel();
    beast::error_code ignored;
    beast::get_lowest_layer(stream_).socket().close(ignored);
    {
      std::lock_guard guard{owner_->mtx};
      ++owner_->fetched;
    }
    if (!result)
      POSTERN_INFO("oauth: client metadata document {} refused: {}", url_,
                   describe(result.error()));
    done_(std::move(result));
  }

  std::shared_ptr<impl> owner_;
  std::string url_;
  oauth::uri_parts parts_;
  std::string host_;
  std::string port_;
  tcp::resolver resolver_;
  beast::ssl_stream<beast::tcp_stream> stream_;
  net::steady_timer deadline_;
  beast::flat_buffer buffer_;
  bhttp::request<bhttp::empty_body> req_;
  std::optional<bhttp::response_parser<bhttp::string_body>> parser_;
  client_metadata_fetcher::callback done_;
  bool finished_ = false;
};

} // namespace

client_metadata_fetcher::client_metadata_fetcher(options opts)
  : impl_(std::make_shared<impl>()) {
  impl_->opts = std::move(opts);
  impl_->tls.set_options(ssl::context::default_workarounds
                         | ssl::context::no_sslv2 | ssl::context::no_sslv3
                         | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
  impl_->tls.set_default_verify_paths();
  impl_->tls.set_verify_mode(ssl::verify_peer);
  impl_->thread = std::thread{[i = impl_.get()] { i->ioc.run(); }};
}

client_metadata_fetcher::~client_metadata_fetcher() {
  impl_->work.reset();
  impl_->ioc.stop();
  if (impl_->thread.joinable())
    impl_->thread.join();
}

std::optional<oauth::client_metadata>
client_metadata_fetcher::cached(const std::string& url) {
  std::lock_guard guard{impl_->mtx};
  auto i = impl_->cache.find(url);
  if (i == impl_->cache.end())
    return std::nullopt;
  if (i->second.expires <= steady_now()) {
    impl_->cache.erase(i);
    return std::nullopt;
  }
  return i->second.doc;
}

void client_metadata_fetcher::get(const std::string& url,
                                  const std::string& requester, callback done) {
  if (auto doc = cached(url)) {
    done(std::move(*doc));
    return;
  }
  if (auto why = oauth::check_metadata_url(url); !why.empty()) {
    done(refused(std::move(why)));
    return;
  }
  auto host = oauth::split_uri(url)->host;
  {
    std::unique_lock guard{impl_->mtx};
    // One fetch per URL at a time: later askers wait for the same answer.
    if (auto i = impl_->waiting.find(url); i != impl_->waiting.end()) {
      i->second.push_back(std::move(done));
      return;
    }
    auto busy = [&](std::string sentence) {
      guard.unlock();
      done(caf::make_error(ec::too_busy, std::move(sentence)));
    };
    if (impl_->waiting.size() >= impl_->opts.max_in_flight) {
      busy("Too many client metadata documents are being fetched; try "
           "again.");
      return;
    }
    if (impl_->by_requester[requester] >= impl_->opts.max_per_requester) {
      busy("Too many client metadata documents are being fetched for you "
           "at once (at most "
           + std::to_string(impl_->opts.max_per_requester)
           + "); try again when they have arrived.");
      return;
    }
    if (impl_->by_host[host] >= impl_->opts.max_per_host) {
      busy("Too many client metadata documents are being fetched from " + host
           + " at once; try again.");
      return;
    }
    ++impl_->by_requester[requester];
    ++impl_->by_host[host];
    impl_->waiting[url].push_back(std::move(done));
  }
  auto answer = [owner = impl_, url, requester,
                 host](caf::expected<oauth::client_metadata> r) {
    std::vector<callback> waiters;
    {
      std::lock_guard guard{owner->mtx};
      waiters = std::move(owner->waiting[url]);
      owner->waiting.erase(url);
      impl::release(owner->by_requester, requester);
      impl::release(owner->by_host, host);
    }
    for (auto& w : waiters)
      w(r);
  };
  auto op = std::make_shared<fetch_op>(impl_, url, *oauth::split_uri(url),
                                       std::move(answer));
  net::post(impl_->ioc, [op] { op->start(); });
}

size_t client_metadata_fetcher::fetches() const {
  std::lock_guard guard{impl_->mtx};
  return impl_->fetched;
}

} // namespace postern::http
