// SPDX-License-Identifier: Apache-2.0
// One POSTed JSON-RPC body (mcp/jsonrpc.cpp decode, then the answer the
// endpoint builds from it): any bytes.
#include "fuzz_check.hpp"
#include "postern/mcp/jsonrpc.hpp"
#include "postern/mime/charset.hpp"

#include <cstdint>

using namespace postern;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto body = fuzz::as_text(data, size);
  auto result = mcp::decode(body);
  if (result.msg) {
    auto& msg = *result.msg;
    fuzz::require(msg.doc != nullptr, "a message owns its document");
    (void) msg.meta();
    auto reply = mcp::make_result(msg.id, "{}");
    fuzz::require(mime::is_valid_utf8(reply), "a result is UTF-8");
  } else {
    auto reply = mcp::make_error(result.error.id, result.error.code,
                                 result.error.message);
    fuzz::require(mime::is_valid_utf8(reply), "an error is UTF-8");
  }
  return 0;
}
