// SPDX-License-Identifier: Apache-2.0
// The template renderer (ui/template.cpp). Input: the first byte picks
// the mode:
//   even: the rest is template text, rendered with partials from the
//         embedded templates and a small fixed context;
//   odd:  the rest is a context (lines "key=value", "#key" starts a list
//         of the next lines' objects, "/" ends it) for one of the embedded
//         templates, chosen by the second byte: values are what strangers
//         control (subjects, names), the templates are ours.
// Every value must come out escaped: no '<' from a value reaches the page.
#include "fuzz_check.hpp"
#include "postern/ui/assets.hpp"
#include "postern/ui/template.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

using namespace postern;

namespace {

std::optional<std::string_view> embedded_partial(std::string_view name) {
  if (auto found = ui::find_asset("templates/" + std::string{name} + ".html"))
    return found->content;
  return std::nullopt;
}

std::vector<std::string_view> template_names() {
  std::vector<std::string_view> names;
  for (auto& [path, content] : ui::detail::assets)
    if (path.rfind("templates/", 0) == 0)
      names.push_back(path);
  return names;
}

// With `neutral`, every non-empty value is "x": the same structure
// (sections and lists) and the same truthiness (an empty string is falsy,
// so it stays empty), no markup.
ui::value parse_context(std::string_view text, bool neutral) {
  auto root = ui::value::object();
  std::vector<std::pair<std::string, ui::value>> lists; // open lists
  while (!text.empty()) {
    auto nl = text.find('\n');
    auto line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{}
                                        : text.substr(nl + 1);
    if (!line.empty() && line[0] == '#' && lists.size() < 8) {
      lists.emplace_back(std::string{line.substr(1)}, ui::value::list());
      continue;
    }
    if (line == "/" && !lists.empty()) {
      auto [key, list] = std::move(lists.back());
      lists.pop_back();
      auto& target = lists.empty() ? root : lists.back().second;
      if (target.type() == ui::value::kind::list)
        target.push(ui::value::object().set(key, std::move(list)));
      else
        target.set(key, std::move(list));
      continue;
    }
    auto eq = line.find('=');
    auto key = std::string{line.substr(0, eq)};
    auto raw = eq == std::string_view::npos ? std::string_view{}
                                            : line.substr(eq + 1);
    ui::value v = eq == std::string_view::npos
                    ? ui::value{true}
                    : ui::value{neutral && !raw.empty() ? std::string{"x"}
                                                        : std::string{raw}};
    if (!lists.empty())
      lists.back().second.push(ui::value::object().set(key, std::move(v)));
    else
      root.set(key, std::move(v));
  }
  return root;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2)
    return 0;
  auto text = fuzz::as_text(data + 2, size - 2);
  if (data[0] % 2 == 0) {
    auto context = ui::value::object();
    context.set("name", "<b>&'\"`=").set("flag", true).set("empty", "");
    auto items = ui::value::list();
    items.push("one").push(ui::value::object().set("name", "two"));
    context.set("items", std::move(items));
    auto tmpl = fuzz::as_text(data + 1, size - 1);
    auto [out, err] = ui::render(tmpl, context, embedded_partial);
    (void) out;
    (void) err;
    return 0;
  }
  static const auto names = template_names();
  if (names.empty())
    return 0;
  auto name = names[data[1] % names.size()];
  auto main = ui::find_asset(name);
  auto [out, err] = ui::render(main->content, parse_context(text, false),
                               embedded_partial);
  // Nothing a value says can open a tag or end an attribute: the page has
  // exactly the markup it has with harmless values.
  auto [plain, plain_err] = ui::render(main->content, parse_context(text, true),
                                       embedded_partial);
  auto count = [](const std::string& page, char c) {
    return std::count(page.begin(), page.end(), c);
  };
  if (!err && !plain_err)
    for (char c : {'<', '>', '"', '\''})
      if (count(out, c) != count(plain, c)) {
        std::fprintf(stderr, "fuzz: %.*s: a value added a %c\n",
                     static_cast<int>(name.size()), name.data(), c);
        fuzz::require(false, "values are escaped");
      }
  return 0;
}
