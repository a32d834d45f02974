// SPDX-License-Identifier: Apache-2.0
#pragma once

// Internal to html.cpp: HTML character references (&amp;, &#233;, &#x20AC;),
// kept apart from the tag walker because the tables are long.

#include <string>
#include <string_view>

namespace postern::mime::detail {

/// Decodes every character reference in `text` (text between tags or an
/// attribute value); what is not a reference is copied as it is. Linear:
/// a reference's ';' is looked for in the next 33 bytes only, so a text of
/// "&&&&..." does not rescan.
std::string decode_references(std::string_view text);

} // namespace postern::mime::detail
