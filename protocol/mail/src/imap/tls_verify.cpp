// SPDX-License-Identifier: Apache-2.0
#include "postern/imap/tls_verify.hpp"

#include "postern/error.hpp"

#include <arpa/inet.h>
#include <libetpan/carray.h>
#include <libetpan/mmapstring.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <memory>
#include <optional>
#include <string>
#include <system_error>

namespace postern::imap {

namespace {

struct x509_free_fn {
  void operator()(X509* x) const noexcept {
    X509_free(x);
  }
};
struct x509_stack_free_fn {
  void operator()(STACK_OF(X509) * s) const noexcept {
    sk_X509_pop_free(s, X509_free);
  }
};
struct x509_store_free_fn {
  void operator()(X509_STORE* s) const noexcept {
    X509_STORE_free(s);
  }
};
struct x509_store_ctx_free_fn {
  void operator()(X509_STORE_CTX* c) const noexcept {
    X509_STORE_CTX_free(c);
  }
};
struct bio_free_fn {
  void operator()(BIO* b) const noexcept {
    BIO_free(b);
  }
};
// The chain is a carray of MMAPString copies of the DER certificates, owned by
// the caller: mailstream_certificate_chain_free releases the strings and array.
struct chain_free_fn {
  void operator()(carray* c) const noexcept {
    mailstream_certificate_chain_free(c);
  }
};

using x509_ptr = std::unique_ptr<X509, x509_free_fn>;
using x509_stack_ptr = std::unique_ptr<STACK_OF(X509), x509_stack_free_fn>;
using x509_store_ptr = std::unique_ptr<X509_STORE, x509_store_free_fn>;
using x509_store_ctx_ptr
  = std::unique_ptr<X509_STORE_CTX, x509_store_ctx_free_fn>;
using bio_ptr = std::unique_ptr<BIO, bio_free_fn>;
using chain_ptr = std::unique_ptr<carray, chain_free_fn>;

caf::error fail(std::string sentence) {
  ERR_clear_error(); // leave this thread's OpenSSL error queue empty
  return caf::make_error(ec::tls_failure, std::move(sentence));
}

// The reason of the oldest queued OpenSSL error, or `fallback`.
std::string openssl_reason(const char* fallback) {
  auto code = ERR_peek_error();
  if (code == 0)
    return fallback;
  const char* reason = ERR_reason_error_string(code);
  return reason != nullptr ? reason : fallback;
}

x509_ptr parse_der(const MMAPString* der) {
  if (der == nullptr || der->str == nullptr || der->len == 0
      || der->len > static_cast<size_t>(LONG_MAX))
    return nullptr;
  auto* bytes = reinterpret_cast<const unsigned char*>(der->str);
  return x509_ptr{d2i_X509(nullptr, &bytes, static_cast<long>(der->len))};
}

std::string subject_of(X509* cert) {
  if (cert == nullptr)
    return "?";
  bio_ptr out{BIO_new(BIO_s_mem())};
  if (!out
      || X509_NAME_print_ex(out.get(), X509_get_subject_name(cert), 0,
                            XN_FLAG_RFC2253)
           < 0)
    return "?";
  char* data = nullptr;
  auto len = BIO_get_mem_data(out.get(), &data);
  if (data == nullptr || len <= 0)
    return "";
  return std::string(data, static_cast<size_t>(len));
}

// Why `path` cannot be opened for reading (OpenSSL would only say that it
// found no certificates), or nothing.
std::optional<std::string> unreadable(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return std::error_code(errno, std::generic_category()).message();
  ::close(fd);
  return std::nullopt;
}

// "[::1]" -> "::1"; "example.org." -> "example.org".
std::string normalize_host(const std::string& host) {
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    return host.substr(1, host.size() - 2);
  if (host.size() > 1 && host.back() == '.')
    return host.substr(0, host.size() - 1);
  return host;
}

bool is_ip_literal(const std::string& host) {
  unsigned char buf[16];
  return inet_pton(AF_INET, host.c_str(), buf) == 1
         || inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

} // namespace

bool expect_tls_host(ssl_st* ssl, const std::string& host) {
  auto literal = host;
  if (literal.size() > 2 && literal.front() == '[' && literal.back() == ']')
    literal = literal.substr(1, literal.size() - 2);
  auto* param = SSL_get0_param(ssl);
  X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  // An IP literal parses as one; SNI is for names only.
  if (X509_VERIFY_PARAM_set1_ip_asc(param, literal.c_str()) == 1)
    return true;
  if (X509_VERIFY_PARAM_set1_host(param, host.c_str(), 0) != 1)
    return false;
  // SSL_set_tlsext_host_name is a macro with a C cast.
  return SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
                  const_cast<char*>(host.c_str()))
         == 1;
}

caf::error verify_peer_certificate(mailstream* stream, const std::string& host,
                                   const std::string& ca_file) {
  auto name = normalize_host(host);
  if (name.empty())
    return fail("no host name to verify the server certificate against");
  if (stream == nullptr)
    return fail("no connection to verify");
  // libetpan (GnuTLS in Debian's build) never verifies the peer: do it here.
  chain_ptr chain{mailstream_get_certificate_chain(stream)};
  if (!chain || carray_count(chain.get()) == 0)
    return fail("the server sent no certificate (is the connection TLS?)");
  // chain[0] is the server's own certificate, the rest are intermediates the
  // server sent, which are untrusted until they lead to a trusted CA.
  x509_ptr leaf;
  x509_stack_ptr untrusted{sk_X509_new_null()};
  if (!untrusted)
    return fail("out of memory");
  for (unsigned i = 0; i < carray_count(chain.get()); ++i) {
    auto cert
      = parse_der(static_cast<const MMAPString*>(carray_get(chain.get(), i)));
    if (!cert)
      return fail("the server's certificate " + std::to_string(i)
                  + " cannot be parsed");
    if (i == 0) {
      leaf = std::move(cert);
    } else if (sk_X509_push(untrusted.get(), cert.get()) > 0) {
      (void) cert.release(); // now owned by the stack
    } else {
      return fail("out of memory");
    }
  }
  x509_store_ptr store{X509_STORE_new()};
  if (!store)
    return fail("out of memory");
  if (ca_file.empty()) {
    if (X509_STORE_set_default_paths(store.get()) != 1)
      return fail("cannot load the system's CA certificates: "
                  + openssl_reason("unknown error"));
  } else if (auto problem = unreadable(ca_file)) {
    return fail("cannot read CA file " + ca_file + ": " + *problem);
  } else if (X509_STORE_load_file(store.get(), ca_file.c_str()) != 1) {
    return fail("cannot load CA file " + ca_file + ": "
                + openssl_reason("no certificates found"));
  }
  x509_store_ctx_ptr ctx{X509_STORE_CTX_new()};
  if (!ctx
      || X509_STORE_CTX_init(ctx.get(), store.get(), leaf.get(),
                             untrusted.get())
           != 1)
    return fail("cannot set up certificate verification: "
                + openssl_reason("unknown error"));
  // What libssl does for a client: purpose and trust settings of a TLS server.
  X509_STORE_CTX_set_default(ctx.get(), "ssl_server");
  auto* param = X509_STORE_CTX_get0_param(ctx.get());
  int host_ok;
  if (is_ip_literal(name)) {
    host_ok = X509_VERIFY_PARAM_set1_ip_asc(param, name.c_str());
  } else {
    X509_VERIFY_PARAM_set_hostflags(param,
                                    X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    host_ok = X509_VERIFY_PARAM_set1_host(param, name.data(), name.size());
  }
  if (host_ok != 1)
    return fail("cannot verify the certificate for host " + name);
  if (X509_verify_cert(ctx.get()) == 1) {
    ERR_clear_error();
    return caf::none;
  }
  auto code = X509_STORE_CTX_get_error(ctx.get());
  std::string sentence = "certificate verify failed: ";
  sentence += X509_verify_cert_error_string(code);
  if (code == X509_V_ERR_HOSTNAME_MISMATCH
      || code == X509_V_ERR_IP_ADDRESS_MISMATCH)
    sentence += " (the certificate is not valid for " + name + ")";
  else
    sentence
      += " (depth " + std::to_string(X509_STORE_CTX_get_error_depth(ctx.get()))
         + ": " + subject_of(X509_STORE_CTX_get_current_cert(ctx.get())) + ")";
  return fail(std::move(sentence));
}

} // namespace postern::imap
