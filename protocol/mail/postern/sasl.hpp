// SPDX-License-Identifier: Apache-2.0
#pragma once

// The SASL messages of the two OAuth mechanisms mail servers take: what
// IMAP AUTHENTICATE and SMTP AUTH send first, and what they send after the
// server's error challenge. Pure functions shared by both clients.

#include "postern/account.hpp"
#include "postern/secret.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace postern::sasl {

/// The base64 initial client response for `mechanism` (xoauth2 or
/// oauthbearer) with an OAuth access token:
///   XOAUTH2:     "user=" user ^A "auth=Bearer " token ^A ^A
///   OAUTHBEARER: "n,a=" user "," ^A "host=" host ^A "port=" port ^A
///                "auth=Bearer " token ^A ^A          (RFC 7628 §3.1)
/// A user name holding "," or "=" is written as RFC 5801 requires.
secret initial_response(sasl_mechanism mechanism, std::string_view user,
                        std::string_view host, uint16_t port,
                        const secret& token);

/// What the client answers to the server's error challenge (a "+" or 334
/// line carrying a JSON status) to end the exchange: empty for XOAUTH2,
/// base64 of ^A for OAUTHBEARER (RFC 7628 §3.2.3).
std::string_view abort_response(sasl_mechanism mechanism);

/// The "status" of a server's error challenge (base64 JSON such as
/// {"status":"invalid_token",...}), letters, digits and _ only, at most 32
/// characters; empty when it is not readable.
std::string challenge_status(std::string_view base64_challenge);

} // namespace postern::sasl
