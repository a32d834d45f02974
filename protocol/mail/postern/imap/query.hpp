// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <caf/expected.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

// Pure helpers behind listing and searching: argument clamping, the paging
// cursor and date validation. No I/O.

namespace postern::imap {

/// Largest page and search result.
inline constexpr uint32_t max_page_size = 50;

/// Clamps a page size or search limit to 1..50.
uint32_t clamp_page_size(int64_t requested) noexcept;

/// Clamps a page number to 1..2^31.
uint32_t clamp_page(int64_t requested) noexcept;

/// The sequence numbers [first, last] of a page, newest first: page 1 is the
/// `page_size` highest sequence numbers. Both are 0 when the page lies past
/// the end (an empty page, never message #1 again).
struct sequence_range {
  uint32_t first = 0;
  uint32_t last = 0;

  bool empty() const noexcept {
    return last == 0;
  }
};

sequence_range page_range(uint32_t exists, uint32_t page,
                          uint32_t page_size) noexcept;

/// The position a listing continues from.
struct cursor {
  /// The folder's UIDVALIDITY when the cursor was made.
  uint32_t uid_validity = 0;
  /// The next page holds messages with UIDs below this one.
  uint32_t before_uid = 0;
  /// The page size of the listing.
  uint32_t page_size = 0;
};

/// Encodes a cursor, bound to `folder`, as an opaque URL-safe string.
std::string encode_cursor(std::string_view folder, const cursor& x);

/// Decodes a cursor made by `encode_cursor` for the same folder; fails with
/// `ec::invalid_argument` if it is malformed or belongs to another folder.
caf::expected<cursor> decode_cursor(std::string_view folder,
                                    std::string_view text);

/// A calendar date.
struct date {
  int year = 0;
  int month = 0;
  int day = 0;
};

/// Parses a strict "YYYY-MM-DD" (a real day of the Gregorian calendar, year
/// 1900..9999); fails with `ec::invalid_argument` and a sentence naming
/// `field`.
caf::expected<date> parse_date(std::string_view text, std::string_view field);

/// Formats the broken-down UTC time as ISO 8601 "YYYY-MM-DDTHH:MM:SSZ", or
/// returns an empty string for impossible values. `zone` is the offset from
/// UTC as written in mail, e.g. -0130 for "-01:30".
std::string to_iso8601(int year, int month, int day, int hour, int minute,
                       int second, int zone);

/// Parses an RFC 5322 date ("Thu, 26 Nov 2026 06:00:00 +0100", also the
/// obsolete forms) to ISO 8601 UTC; empty if it cannot be parsed.
std::string rfc5322_date_to_iso8601(std::string_view text);

/// The conversations of a THREAD response (RFC 5256), given the data after
/// the word THREAD ("(1 2 (3)(4 5))(6)"): one list of UIDs per top-level
/// thread, in tree order. nullopt if the text is malformed.
std::optional<std::vector<std::vector<uint32_t>>>
parse_thread_groups(std::string_view text);

} // namespace postern::imap
