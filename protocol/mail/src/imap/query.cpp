// SPDX-License-Identifier: Apache-2.0
#include "postern/imap/query.hpp"

#include "postern/error.hpp"
#include "postern/mime/charset.hpp"
#include "postern/mime/transfer_encoding.hpp"

#include <libetpan/libetpan.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <memory>

namespace postern::imap {

namespace {

// FNV-1a: binds a cursor to its folder. Not a security measure: a cursor
// only ever selects which messages the caller may list anyway.
uint32_t fnv1a(std::string_view text) noexcept {
  uint32_t hash = 2166136261u;
  for (char c : text) {
    hash ^= static_cast<uint8_t>(c);
    hash *= 16777619u;
  }
  return hash;
}

bool is_leap(int year) noexcept {
  return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

int days_in_month(int year, int month) noexcept {
  static constexpr std::array<int, 12> days = {31, 28, 31, 30, 31, 30,
                                               31, 31, 30, 31, 30, 31};
  return month == 2 && is_leap(year) ? 29
                                     : days[static_cast<size_t>(month - 1)];
}

// Days since 1970-01-01 of a proleptic Gregorian date (the classic
// era-based computation: 400-year eras of 146097 days).
int64_t days_from_civil(int64_t y, int64_t m, int64_t d) noexcept {
  y -= m <= 2 ? 1 : 0;
  auto era = (y >= 0 ? y : y - 399) / 400;
  auto yoe = y - era * 400;
  auto doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  auto doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

void civil_from_days(int64_t z, int& year, int& month, int& day) noexcept {
  z += 719468;
  auto era = (z >= 0 ? z : z - 146096) / 146097;
  auto doe = z - era * 146097;
  auto yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  auto y = yoe + era * 400;
  auto doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  auto mp = (5 * doy + 2) / 153;
  auto d = doy - (153 * mp + 2) / 5 + 1;
  auto m = mp + (mp < 10 ? 3 : -9);
  year = static_cast<int>(y + (m <= 2 ? 1 : 0));
  month = static_cast<int>(m);
  day = static_cast<int>(d);
}

struct date_time_deleter {
  void operator()(mailimf_date_time* x) const noexcept {
    mailimf_date_time_free(x);
  }
};

} // namespace

uint32_t clamp_page_size(int64_t requested) noexcept {
  if (requested < 1)
    return 1;
  if (requested > max_page_size)
    return max_page_size;
  return static_cast<uint32_t>(requested);
}

uint32_t clamp_page(int64_t requested) noexcept {
  if (requested < 1)
    return 1;
  constexpr int64_t limit = int64_t{1} << 31;
  return static_cast<uint32_t>(requested > limit ? limit : requested);
}

sequence_range page_range(uint32_t exists, uint32_t page,
                          uint32_t page_size) noexcept {
  if (page == 0 || page_size == 0)
    return {};
  auto skip = static_cast<uint64_t>(page - 1) * page_size;
  if (skip >= exists)
    return {};
  auto last = static_cast<uint64_t>(exists) - skip;
  auto first = last > page_size ? last - page_size + 1 : 1;
  return {static_cast<uint32_t>(first), static_cast<uint32_t>(last)};
}

std::string encode_cursor(std::string_view folder, const cursor& x) {
  std::array<char, 96> buf{};
  std::snprintf(buf.data(), buf.size(), "1.%u.%u.%u.%08x", x.uid_validity,
                x.before_uid, x.page_size, fnv1a(folder));
  auto text = mime::encode_base64(buf.data());
  // URL-safe, no padding: cursors travel in JSON and maybe URLs.
  for (auto& c : text)
    c = c == '+' ? '-' : c == '/' ? '_' : c;
  while (!text.empty() && text.back() == '=')
    text.pop_back();
  return text;
}

caf::expected<cursor> decode_cursor(std::string_view folder,
                                    std::string_view text) {
  auto invalid = [] {
    return caf::make_error(ec::invalid_argument,
                           "The cursor is not valid; list the folder again "
                           "without a cursor");
  };
  if (text.empty() || text.size() > 80)
    return invalid();
  std::string b64{text};
  for (auto& c : b64) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
              || (c >= '0' && c <= '9') || c == '-' || c == '_';
    if (!ok)
      return invalid();
    c = c == '-' ? '+' : c == '_' ? '/' : c;
  }
  auto plain = mime::decode_base64(b64);
  unsigned version = 0;
  unsigned uid_validity = 0;
  unsigned before = 0;
  unsigned page_size = 0;
  unsigned hash = 0;
  int consumed = 0;
  if (std::sscanf(plain.c_str(), "%u.%u.%u.%u.%8x%n", &version, &uid_validity,
                  &before, &page_size, &hash, &consumed)
        != 5
      || static_cast<size_t>(consumed) != plain.size() || version != 1
      || page_size < 1 || page_size > max_page_size)
    return invalid();
  if (hash != fnv1a(folder))
    return caf::make_error(ec::invalid_argument,
                           "The cursor belongs to another folder; list this "
                           "folder without a cursor");
  return cursor{uid_validity, before, page_size};
}

caf::expected<date> parse_date(std::string_view text, std::string_view field) {
  auto fail = [&] {
    return caf::make_error(ec::invalid_argument,
                           "The " + std::string{field} + " date \""
                             + mime::to_valid_utf8(text)
                             + "\" is not a valid date; use YYYY-MM-DD, for "
                               "example 2026-03-31");
  };
  if (text.size() != 10 || text[4] != '-' || text[7] != '-')
    return fail();
  for (size_t i : {0u, 1u, 2u, 3u, 5u, 6u, 8u, 9u})
    if (text[i] < '0' || text[i] > '9')
      return fail();
  auto num = [&](size_t pos, size_t len) {
    int v = 0;
    for (size_t i = pos; i < pos + len; ++i)
      v = v * 10 + (text[i] - '0');
    return v;
  };
  date d{num(0, 4), num(5, 2), num(8, 2)};
  if (d.year < 1900 || d.month < 1 || d.month > 12 || d.day < 1
      || d.day > days_in_month(d.year, d.month))
    return fail();
  return d;
}

std::string to_iso8601(int year, int month, int day, int hour, int minute,
                       int second, int zone) {
  if (year < 1 || year > 9999 || month < 1 || month > 12 || day < 1
      || day > days_in_month(year, month) || hour < 0 || hour > 23 || minute < 0
      || minute > 59 || second < 0 || second > 60)
    return {};
  if (second == 60)
    second = 59; // a leap second; ISO 8601 readers rarely accept :60
  auto zone_abs = zone < 0 ? -zone : zone;
  if (zone_abs / 100 > 23 || zone_abs % 100 > 59)
    zone = 0;
  auto offset_minutes = (zone_abs / 100 * 60 + zone_abs % 100)
                        * (zone < 0 ? -1 : 1);
  auto seconds = days_from_civil(year, month, day) * 86400 + hour * 3600
                 + minute * 60 + second - int64_t{offset_minutes} * 60;
  auto days = seconds >= 0 ? seconds / 86400 : (seconds - 86399) / 86400;
  auto rest = seconds - days * 86400;
  int y = 0;
  int m = 0;
  int d = 0;
  civil_from_days(days, y, m, d);
  if (y < 1 || y > 9999)
    return {};
  std::array<char, 32> buf{};
  std::snprintf(buf.data(), buf.size(), "%04d-%02d-%02dT%02d:%02d:%02dZ", y, m,
                d, static_cast<int>(rest / 3600),
                static_cast<int>(rest / 60 % 60), static_cast<int>(rest % 60));
  return buf.data();
}

std::string rfc5322_date_to_iso8601(std::string_view text) {
  if (text.empty())
    return {};
  std::string input{text};
  size_t index = 0;
  mailimf_date_time* raw = nullptr;
  if (mailimf_date_time_parse(input.c_str(), input.size(), &index, &raw)
      != MAILIMF_NO_ERROR)
    return {};
  std::unique_ptr<mailimf_date_time, date_time_deleter> dt{raw};
  auto year = dt->dt_year;
  if (year < 50) // RFC 5322 4.3: two-digit years
    year += 2000;
  else if (year < 1000)
    year += 1900;
  return to_iso8601(year, dt->dt_month, dt->dt_day, dt->dt_hour, dt->dt_min,
                    dt->dt_sec, dt->dt_zone);
}

std::optional<std::vector<std::vector<uint32_t>>>
parse_thread_groups(std::string_view text) {
  std::vector<std::vector<uint32_t>> groups;
  size_t depth = 0;
  size_t i = 0;
  while (i < text.size()) {
    auto c = text[i];
    if (c == '(') {
      if (depth == 0)
        groups.emplace_back();
      ++depth;
      ++i;
    } else if (c == ')') {
      if (depth == 0)
        return std::nullopt;
      --depth;
      ++i;
    } else if (c == ' ') {
      ++i;
    } else if (c >= '0' && c <= '9') {
      if (depth == 0)
        return std::nullopt;
      uint64_t n = 0;
      while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
        n = n * 10 + static_cast<uint64_t>(text[i] - '0');
        if (n > 0xffffffffu)
          return std::nullopt;
        ++i;
      }
      if (n == 0)
        return std::nullopt;
      groups.back().push_back(static_cast<uint32_t>(n));
    } else {
      return std::nullopt;
    }
  }
  if (depth != 0)
    return std::nullopt;
  return groups;
}

} // namespace postern::imap
