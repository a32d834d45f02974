// SPDX-License-Identifier: Apache-2.0
#include "postern/ui/template.hpp"

#include "postern/text.hpp"
#include "postern/ui/assets.hpp"

#include <memory>

namespace postern::ui {

// -- value --------------------------------------------------------------------

value value::html(std::string markup) {
  value v;
  v.kind_ = kind::html;
  v.text_ = std::move(markup);
  return v;
}

value value::list() {
  value v;
  v.kind_ = kind::list;
  return v;
}

value value::object() {
  value v;
  v.kind_ = kind::object;
  return v;
}

value& value::set(std::string key, value v) {
  kind_ = kind::object;
  for (auto& [k, old] : fields_)
    if (k == key) {
      old = std::move(v);
      return *this;
    }
  fields_.emplace_back(std::move(key), std::move(v));
  return *this;
}

value& value::push(value v) {
  kind_ = kind::list;
  items_.push_back(std::move(v));
  return *this;
}

const value* value::find(std::string_view key) const {
  if (kind_ != kind::object)
    return nullptr;
  for (auto& [k, v] : fields_)
    if (k == key)
      return &v;
  return nullptr;
}

bool value::truthy() const noexcept {
  switch (kind_) {
    case kind::null:
      return false;
    case kind::flag:
      return flag_;
    case kind::text:
    case kind::html:
      return !text_.empty();
    case kind::list:
      return !items_.empty();
    case kind::object:
      return true;
  }
  return false;
}

// -- escaping -----------------------------------------------------------------

void append_escaped(std::string& out, std::string_view text) {
  append_html_escaped(out, text);
}

std::string escape_html(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 8);
  append_escaped(out, text);
  return out;
}

// -- parsing ------------------------------------------------------------------

namespace {

struct node {
  enum class type { text, variable, section, inverted, partial } what;
  std::string_view content; // text, or the tag's name
  std::vector<node> children;
};

bool valid_name(std::string_view name) {
  if (name == ".")
    return true;
  if (name.empty() || name.front() == '.' || name.back() == '.')
    return false;
  for (char c : name)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
          || (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.'))
      return false;
  return true;
}

// Parsing and rendering recurse once per section level.
constexpr int max_section_depth = 32;

class parser {
public:
  explicit parser(std::string_view tmpl) : tmpl_(tmpl) {
    // nop
  }

  std::optional<render_error> parse(std::vector<node>& out) {
    return parse_until({}, out);
  }

private:
  std::optional<render_error> fail(std::string what) {
    // Count lines for a useful message.
    size_t line = 1;
    for (size_t i = 0; i < pos_ && i < tmpl_.size(); ++i)
      if (tmpl_[i] == '\n')
        ++line;
    return render_error{what + " (line " + std::to_string(line) + ")"};
  }

  std::optional<render_error> parse_until(std::string_view closing,
                                          std::vector<node>& out) {
    while (pos_ < tmpl_.size()) {
      auto open = tmpl_.find("{{", pos_);
      if (open == std::string_view::npos) {
        out.push_back(node{node::type::text, tmpl_.substr(pos_), {}});
        pos_ = tmpl_.size();
        break;
      }
      if (open > pos_)
        out.push_back(
          node{node::type::text, tmpl_.substr(pos_, open - pos_), {}});
      pos_ = open;
      auto close = tmpl_.find("}}", open + 2);
      if (close == std::string_view::npos)
        return fail("unclosed tag");
      auto tag = trim_blanks(tmpl_.substr(open + 2, close - open - 2));
      pos_ = close + 2;
      if (tag.empty())
        return fail("empty tag");
      auto sigil = tag.front();
      auto name = trim_blanks(tag.substr(1));
      switch (sigil) {
        case '!':
          break;
        case '{':
        case '&':
          return fail("unescaped output is not supported");
        case '#':
        case '^': {
          if (!valid_name(name))
            return fail("bad section name \"" + std::string{name} + "\"");
          if (depth_ >= max_section_depth)
            return fail("sections nested deeper than "
                        + std::to_string(max_section_depth));
          node n{sigil == '#' ? node::type::section : node::type::inverted,
                 name,
                 {}};
          ++depth_;
          auto err = parse_until(name, n.children);
          --depth_;
          if (err)
            return err;
          out.push_back(std::move(n));
          break;
        }
        case '/':
          if (name != closing)
            return fail("unexpected {{/" + std::string{name} + "}}");
          return std::nullopt;
        case '>':
          if (!valid_name(name))
            return fail("bad partial name \"" + std::string{name} + "\"");
          out.push_back(node{node::type::partial, name, {}});
          break;
        default:
          if (!valid_name(tag))
            return fail("bad name \"" + std::string{tag} + "\"");
          out.push_back(node{node::type::variable, tag, {}});
      }
    }
    if (!closing.empty())
      return fail("section \"" + std::string{closing} + "\" is not closed");
    return std::nullopt;
  }

  std::string_view tmpl_;
  size_t pos_ = 0;
  int depth_ = 0;
};

// -- rendering ----------------------------------------------------------------

constexpr int max_partial_depth = 8;

/// Work and output caps of one render: sections over lists multiply (k
/// items in n nested sections visit k^n nodes), so a bound on nesting alone
/// is not a bound on time. Postern's pages stay far below both.
constexpr size_t max_render_steps = 200'000;
constexpr size_t max_render_bytes = 4u << 20;

class renderer {
public:
  renderer(const partial_lookup& partials, std::string& out)
    : partials_(partials), out_(out) {
    // nop
  }

  std::optional<render_error> run(const std::vector<node>& nodes,
                                  std::vector<const value*>& stack, int depth) {
    for (auto& n : nodes) {
      if (++steps_ > max_render_steps || out_.size() > max_render_bytes)
        return render_error{"the template does too much work (more than "
                            + std::to_string(max_render_steps) + " steps or "
                            + std::to_string(max_render_bytes >> 20)
                            + " MiB of output)"};
      switch (n.what) {
        case node::type::text:
          out_ += n.content;
          break;
        case node::type::variable:
          if (auto* v = lookup(stack, n.content))
            write(*v);
          break;
        case node::type::section: {
          auto* v = lookup(stack, n.content);
          if (!v || !v->truthy())
            break;
          if (v->type() == value::kind::list) {
            for (auto& item : v->items()) {
              stack.push_back(&item);
              auto err = run(n.children, stack, depth);
              stack.pop_back();
              if (err)
                return err;
            }
          } else {
            stack.push_back(v);
            auto err = run(n.children, stack, depth);
            stack.pop_back();
            if (err)
              return err;
          }
          break;
        }
        case node::type::inverted: {
          auto* v = lookup(stack, n.content);
          if (!v || !v->truthy())
            if (auto err = run(n.children, stack, depth))
              return err;
          break;
        }
        case node::type::partial: {
          if (depth >= max_partial_depth)
            return render_error{"partials nested too deeply at \""
                                + std::string{n.content} + "\""};
          auto text = partials_ ? partials_(n.content) : std::nullopt;
          if (!text)
            return render_error{"unknown partial \"" + std::string{n.content}
                                + "\""};
          std::vector<node> sub;
          if (auto err = parser{*text}.parse(sub))
            return render_error{"in partial \"" + std::string{n.content}
                                + "\": " + err->message};
          if (auto err = run(sub, stack, depth + 1))
            return err;
          break;
        }
      }
    }
    return std::nullopt;
  }

private:
  // Each context searched counts as a step: a name missing from 32 nested
  // contexts is 32 searches, and the step cap bounds the real work.
  const value* lookup(const std::vector<const value*>& stack,
                      std::string_view name) {
    if (stack.empty())
      return nullptr;
    if (name == ".")
      return stack.back();
    auto dot = name.find('.');
    auto head = name.substr(0, dot);
    const value* found = nullptr;
    for (auto i = stack.rbegin(); i != stack.rend() && !found; ++i) {
      ++steps_;
      found = (*i)->find(head);
    }
    while (found && dot != std::string_view::npos) {
      name.remove_prefix(dot + 1);
      dot = name.find('.');
      found = found->find(name.substr(0, dot));
    }
    return found;
  }

  void write(const value& v) {
    switch (v.type()) {
      case value::kind::text:
        append_escaped(out_, v.text());
        break;
      case value::kind::html:
        out_ += v.text();
        break;
      case value::kind::flag:
        out_ += v.truthy() ? "true" : "false";
        break;
      case value::kind::null:
      case value::kind::list:
      case value::kind::object:
        break;
    }
  }

  const partial_lookup& partials_;
  std::string& out_;
  size_t steps_ = 0;
};

} // namespace

std::pair<std::string, std::optional<render_error>>
render(std::string_view tmpl, const value& context,
       const partial_lookup& partials) {
  std::vector<node> nodes;
  if (auto err = parser{tmpl}.parse(nodes))
    return {std::string{}, std::move(err)};
  std::string out;
  out.reserve(tmpl.size() * 2);
  std::vector<const value*> stack{&context};
  if (auto err = renderer{partials, out}.run(nodes, stack, 0))
    return {std::string{}, std::move(err)};
  return {std::move(out), std::nullopt};
}

std::pair<std::string, std::optional<render_error>>
render_asset(std::string_view name, const value& context) {
  auto path = [](std::string_view n) {
    return "templates/" + std::string{n} + ".html";
  };
  auto main = find_asset(path(name));
  if (!main)
    return {std::string{},
            render_error{"no template \"" + std::string{name} + "\""}};
  partial_lookup partials
    = [&path](std::string_view n) -> std::optional<std::string_view> {
    if (auto found = find_asset(path(n)))
      return found->content;
    return std::nullopt;
  };
  auto [out, err] = render(main->content, context, partials);
  if (err)
    err->message = "template \"" + std::string{name} + "\": " + err->message;
  return {std::move(out), std::move(err)};
}

} // namespace postern::ui
