// SPDX-License-Identifier: Apache-2.0
// Micro-benchmarks of the hot paths of one MCP tool call that do not touch
// the network: JSON-RPC decode and encode, the token lookup (SHA-256 plus an
// LMDB read), MIME decoding of a typical message part, and an LMDB read.
// Run: build/release/bench/postern-microbench
#include "postern/mcp/jsonrpc.hpp"
#include "postern/mime/header.hpp"
#include "postern/mime/html.hpp"
#include "postern/mime/structure.hpp"
#include "postern/storage/crypto.hpp"
#include "postern/storage/environment.hpp"

#include <benchmark/benchmark.h>

#include <cstdlib>

namespace {

const char* tool_call
  = R"({"jsonrpc":"2.0","id":42,"method":"tools/call","params":{"name":)"
    R"("list_messages","arguments":{"folder":"INBOX","page":1,"pageSize":20}}})";

void jsonrpc_decode(benchmark::State& state) {
  for (auto _ : state) {
    auto msg = postern::mcp::decode(tool_call);
    benchmark::DoNotOptimize(msg);
  }
}
BENCHMARK(jsonrpc_decode);

void jsonrpc_encode(benchmark::State& state) {
  std::string result = R"({"content":[{"type":"text","text":")"
                       + std::string(2000, 'x') + R"("}],"isError":false})";
  for (auto _ : state) {
    auto out = postern::mcp::make_result("42", result);
    benchmark::DoNotOptimize(out);
  }
}
BENCHMARK(jsonrpc_encode);

void mime_decode_quoted_printable_part(benchmark::State& state) {
  std::string body;
  for (int i = 0; i < 40; ++i)
    body += "Gr=C3=BC=C3=9Fe aus M=C3=BCnchen, this is line "
            + std::to_string(i)
            + " of a typical message body with soft=\r\n breaks.\r\n";
  postern::mime::text_step step;
  step.charset = "utf-8";
  step.encoding = "quoted-printable";
  for (auto _ : state) {
    auto text = postern::mime::decode_text(body, step);
    benchmark::DoNotOptimize(text);
  }
  state.SetBytesProcessed(state.iterations()
                          * static_cast<int64_t>(body.size()));
}
BENCHMARK(mime_decode_quoted_printable_part);

void mime_decode_header(benchmark::State& state) {
  const char* subject
    = "=?UTF-8?B?R3LDvMOfZSBhdXMgTcO8bmNoZW4=?= =?ISO-8859-1?Q?und_K=F6ln?=";
  for (auto _ : state) {
    auto text = postern::mime::decode_header(subject);
    benchmark::DoNotOptimize(text);
  }
}
BENCHMARK(mime_decode_header);

void html_to_text(benchmark::State& state) {
  std::string html = "<html><body>";
  for (int i = 0; i < 50; ++i)
    html += "<p>Paragraph " + std::to_string(i)
            + " with a <a href=\"https://example.com/x\">link</a> &amp; "
              "<b>bold</b> text.</p>";
  html += "</body></html>";
  for (auto _ : state) {
    auto text = postern::mime::html_to_text(html);
    benchmark::DoNotOptimize(text);
  }
  state.SetBytesProcessed(state.iterations()
                          * static_cast<int64_t>(html.size()));
}
BENCHMARK(html_to_text);

/// A temporary LMDB with 10 000 token records.
struct token_db {
  std::string dir;
  std::shared_ptr<postern::storage::environment> env;
  std::vector<std::string> tokens;

  token_db() {
    char tmpl[] = "/tmp/postern-bench-XXXXXX";
    dir = mkdtemp(tmpl);
    postern::storage::environment::options opts;
    opts.dir = dir;
    env = *postern::storage::environment::open(opts);
    env->write([&](postern::storage::txn& t) -> caf::error {
      for (int i = 0; i < 10000; ++i) {
        tokens.push_back(postern::storage::random_token());
        t.put(postern::storage::table::access_tokens,
              postern::storage::sha256(tokens.back()), std::string(120, 'r'));
      }
      return caf::none;
    });
  }

  ~token_db() {
    env.reset();
    std::system(("rm -rf '" + dir + "'").c_str());
  }
};

void token_hash_and_lmdb_lookup(benchmark::State& state) {
  static token_db db;
  size_t i = 0;
  for (auto _ : state) {
    auto digest = postern::storage::sha256(db.tokens[i++ % db.tokens.size()]);
    db.env->read([&](const postern::storage::txn& t) -> caf::error {
      auto v = t.get(postern::storage::table::access_tokens, digest);
      benchmark::DoNotOptimize(v);
      return caf::none;
    });
  }
}
BENCHMARK(token_hash_and_lmdb_lookup);

void lmdb_read(benchmark::State& state) {
  static token_db db;
  std::vector<std::string> keys;
  for (auto& t : db.tokens)
    keys.push_back(postern::storage::sha256(t));
  size_t i = 0;
  for (auto _ : state) {
    db.env->read([&](const postern::storage::txn& t) -> caf::error {
      auto v = t.get(postern::storage::table::access_tokens,
                     keys[i++ % keys.size()]);
      benchmark::DoNotOptimize(v);
      return caf::none;
    });
  }
}
BENCHMARK(lmdb_read);

} // namespace
