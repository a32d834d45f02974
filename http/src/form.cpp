// SPDX-License-Identifier: Apache-2.0
#include "postern/http/form.hpp"

#include "postern/text.hpp"

namespace postern::http {

std::string url_decode(std::string_view text, bool plus_is_space) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    auto c = text[i];
    if (c == '+' && plus_is_space) {
      out += ' ';
    } else if (c == '%' && i + 2 < text.size() && hex_digit(text[i + 1]) >= 0
               && hex_digit(text[i + 2]) >= 0) {
      out += static_cast<char>(hex_digit(text[i + 1]) * 16
                               + hex_digit(text[i + 2]));
      i += 2;
    } else {
      out += c;
    }
  }
  return out;
}

std::string url_encode(std::string_view text) {
  return percent_encode(text);
}

form_data form_data::parse(std::string_view encoded, size_t max_fields) {
  form_data result;
  while (!encoded.empty() && result.fields_.size() < max_fields) {
    auto amp = encoded.find('&');
    auto pair = encoded.substr(0, amp);
    encoded = amp == std::string_view::npos ? std::string_view{}
                                            : encoded.substr(amp + 1);
    if (pair.empty())
      continue;
    auto eq = pair.find('=');
    auto name = url_decode(pair.substr(0, eq));
    auto val = eq == std::string_view::npos ? std::string{}
                                            : url_decode(pair.substr(eq + 1));
    result.fields_.emplace_back(std::move(name), std::move(val));
  }
  return result;
}

std::optional<std::string> form_data::find(std::string_view name) const {
  for (auto& [k, v] : fields_)
    if (k == name)
      return v;
  return std::nullopt;
}

std::string form_data::get(std::string_view name) const {
  auto found = find(name);
  return found ? *found : std::string{};
}

bool form_data::has(std::string_view name) const {
  return find(name).has_value();
}

std::vector<std::string> form_data::all(std::string_view name) const {
  std::vector<std::string> result;
  for (auto& [k, v] : fields_)
    if (k == name)
      result.push_back(v);
  return result;
}

} // namespace postern::http
