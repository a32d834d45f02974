// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace postern::ui {

/// The data a template is rendered with: null, a flag, text, trusted
/// markup, a list or an object (ordered keys). Text is always escaped when
/// rendered; only `value::html` is written as is, and only the renderer
/// itself makes those (a rendered page inside the layout).
class value {
public:
  enum class kind { null, flag, text, html, list, object };

  /// Null: renders as nothing, and a section over it is skipped.
  value() = default;
  value(std::string text) : kind_(kind::text), text_(std::move(text)) {
    // nop
  }
  value(std::string_view text) : kind_(kind::text), text_(text) {
    // nop
  }
  value(const char* text) : kind_(kind::text), text_(text) {
    // nop
  }
  value(bool flag) : kind_(kind::flag), flag_(flag) {
    // nop
  }
  // Numbers must be formatted by the caller: no silent int -> bool.
  value(int) = delete;
  value(long) = delete;
  value(unsigned long) = delete;

  /// Markup that is already safe (output of `render`).
  static value html(std::string markup);

  /// An empty list; fill it with push().
  static value list();

  /// An empty object; fill it with set().
  static value object();

  /// Sets a key of an object (replacing an earlier value); returns *this.
  value& set(std::string key, value v);

  /// Appends to a list; returns *this.
  value& push(value v);

  /// The value of a key of an object, or nullptr.
  const value* find(std::string_view key) const;

  kind type() const noexcept {
    return kind_;
  }

  /// False for null, false, empty text and empty lists; true otherwise.
  bool truthy() const noexcept;

  const std::string& text() const noexcept {
    return text_;
  }

  const std::vector<value>& items() const noexcept {
    return items_;
  }

  size_t size() const noexcept {
    return items_.size();
  }

private:
  kind kind_ = kind::null;
  bool flag_ = false;
  std::string text_;
  std::vector<value> items_;
  std::vector<std::pair<std::string, value>> fields_;
};

/// Finds a partial template by name (`{{>name}}`); nullopt if unknown.
using partial_lookup
  = std::function<std::optional<std::string_view>(std::string_view name)>;

/// What went wrong while rendering (a template bug, not user input).
struct render_error {
  std::string message;
};

/// Renders a logic-less template, a subset of Mustache:
/// - `{{name}}`, `{{a.b}}`, `{{.}}`: the value, HTML-escaped (& < > " ' `
///   =); trusted markup (`value::html`) is written unescaped;
/// - `{{#name}}...{{/name}}`: repeated for each item of a list, once with
///   an object or a truthy scalar as the new context, skipped if falsy;
/// - `{{^name}}...{{/name}}`: rendered once if the value is falsy;
/// - `{{>name}}`: a partial, rendered with the current context;
/// - `{{! comment }}`: nothing.
/// There is no unescaped `{{{x}}}` or `{{&x}}`: such tags are errors.
/// Names are looked up from the innermost context outwards; unknown names
/// render as nothing. On a malformed template returns the error.
///
/// Bounds: parsing is one pass over the template; sections nest at most 32
/// deep and partials 8 (deeper is an error, not a stack overflow);
/// rendering is linear in the output, which is the template's text per
/// list item plus each value escaped (at most 6 bytes per byte), and stops
/// with an error after 200 000 steps (nodes visited plus contexts searched
/// for names) or 4 MiB of output, since nested sections over lists
/// multiply.
std::pair<std::string, std::optional<render_error>>
render(std::string_view tmpl, const value& context,
       const partial_lookup& partials = {});

/// Escapes text for HTML element content and quoted attribute values.
std::string escape_html(std::string_view text);

/// Appends the escaped text to `out`.
void append_escaped(std::string& out, std::string_view text);

/// Renders an embedded template ("templates/<name>.html"), with partials
/// from the same folder. nullopt and an error when the template is missing
/// or malformed.
std::pair<std::string, std::optional<render_error>>
render_asset(std::string_view name, const value& context);

} // namespace postern::ui
