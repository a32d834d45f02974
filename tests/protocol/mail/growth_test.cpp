// SPDX-License-Identifier: Apache-2.0
// Growth properties of the decoders (issue 14): each hostile shape is
// generated at n and 4n bytes; the output, the work the decoders count
// (mime::detail::work_done: bytes and items their loops looked at) and the
// bytes allocated on the heap must grow at most linearly, i.e. by at most
// 4.5 times. No clock is involved.
#include "postern/mime/address.hpp"
#include "postern/mime/charset.hpp"
#include "postern/mime/compose.hpp"
#include "postern/mime/header.hpp"
#include "postern/mime/html.hpp"
#include "postern/mime/limits.hpp"
#include "postern/mime/structure.hpp"
#include "postern/mime/transfer_encoding.hpp"
#include "postern/mime/work.hpp"
#include "postern/ui/template.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <functional>
#include <new>
#include <string>
#include <vector>

// Every byte allocated with new in this program is counted. Allocations
// are the other half of "bytes touched": a decoder that copies the rest of
// its input for every tag allocates quadratically without scanning much.
namespace {
std::atomic<uint64_t> allocated{0};
} // namespace

void* operator new(size_t n) {
  allocated.fetch_add(n, std::memory_order_relaxed);
  if (void* p = std::malloc(n == 0 ? 1 : n))
    return p;
  throw std::bad_alloc{};
}

void* operator new[](size_t n) {
  return operator new(n);
}

void operator delete(void* p) noexcept {
  std::free(p);
}

void operator delete[](void* p) noexcept {
  std::free(p);
}

void operator delete(void* p, size_t) noexcept {
  std::free(p);
}

void operator delete[](void* p, size_t) noexcept {
  std::free(p);
}

using namespace postern;
using namespace postern::mime;

namespace {

constexpr size_t base_size = 16 * 1024;
constexpr double max_ratio = 4.5;

std::string repeat(std::string_view unit, size_t size) {
  std::string out;
  while (out.size() < size)
    out += unit;
  return out;
}

std::string nest(std::string_view open, std::string_view middle,
                 std::string_view close, size_t size) {
  auto n = size / (open.size() + close.size());
  std::string out;
  for (size_t k = 0; k < n; ++k)
    out += open;
  out += middle;
  for (size_t k = 0; k < n; ++k)
    out += close;
  return out;
}

struct cost {
  uint64_t work = 0;
  uint64_t allocated = 0;
  uint64_t output = 0;
};

/// A shape: builds its input for a size, runs a decoder, returns the
/// output bytes. Only the decoder's run is measured.
struct shape {
  std::string name;
  std::function<std::function<size_t()>(size_t)> make;
  /// False for code outside mime:: (the template renderer), which has no
  /// counter: output and allocations are checked alone.
  bool counted = true;
  /// n: inputs stay below the caps (a header is cut at 64 KiB).
  size_t base = base_size;
};

cost measure(const shape& s, size_t size) {
  auto run = s.make(size);
  cost c;
  detail::work_done = 0;
  auto before = allocated.load();
  c.output = run();
  c.allocated = allocated.load() - before;
  c.work = detail::work_done;
  return c;
}

shape text_shape(std::string name, std::function<std::string(size_t)> gen,
                 std::function<size_t(const std::string&)> run) {
  return {std::move(name), [gen, run](size_t size) {
            auto input = std::make_shared<std::string>(gen(size));
            return std::function<size_t()>{
              [input, run] { return run(*input); }};
          }};
}

size_t html(const std::string& s) {
  return html_to_text(s).size();
}

std::vector<shape> html_shapes() {
  std::vector<shape> v;
  // Deep nesting of every block and inline element, with text at each
  // level and without.
  for (std::string e :
       {"div",    "p",      "ul",   "ol",  "li",    "blockquote", "table",
        "tr",     "td",     "th",   "pre", "h1",    "section",    "dl",
        "dd",     "center", "a",    "b",   "i",     "span",       "em",
        "strong", "font",   "code", "sup", "small", "u",          "s"}) {
    auto open = "<" + e + (e == "a" ? " href=\"http://e.example/\">" : ">");
    auto close = "</" + e + ">";
    v.push_back(text_shape(
      "nested <" + e + ">",
      [open, close](size_t n) { return nest(open, "x", close, n); }, html));
    v.push_back(text_shape(
      "nested <" + e + "> with text",
      [open, close](size_t n) { return nest(open + "x ", "y", close, n); },
      html));
    v.push_back(text_shape(
      "unclosed <" + e + ">*N",
      [open](size_t n) { return repeat(open + "z", n); }, html));
  }
  for (std::string list : {"ul", "ol"})
    v.push_back(text_shape(
      "<" + list + ">*N then <li>*N",
      [list](size_t n) {
        return repeat("<" + list + ">", n / 2) + repeat("<li>x", n / 2);
      },
      html));
  for (std::string raw :
       {"script", "style", "svg", "head", "title", "object"}) {
    v.push_back(text_shape(
      "<" + raw + "></" + raw + ">*N",
      [raw](size_t n) { return repeat("<" + raw + ">x</" + raw + ">", n); },
      html));
  }
  v.push_back(text_shape(
    "many tags", [](size_t n) { return repeat("<p>x</p><br>", n); }, html));
  v.push_back(text_shape(
    "<hr>*N", [](size_t n) { return repeat("<hr>", n); }, html));
  v.push_back(text_shape(
    "&amp;*N", [](size_t n) { return repeat("&amp;", n); }, html));
  v.push_back(text_shape(
    "&*N", [](size_t n) { return repeat("&", n); }, html));
  v.push_back(text_shape(
    "&#x41;*N", [](size_t n) { return repeat("&#x41;", n); }, html));
  v.push_back(text_shape(
    "&hellip;*N", [](size_t n) { return repeat("&hellip;", n); }, html));
  v.push_back(text_shape(
    "<pre> line ends then blocks",
    [](size_t n) {
      return "<pre>" + repeat("\n", n / 2) + "</pre>"
             + repeat("<p><br>", n / 2);
    },
    html));
  v.push_back(text_shape(
    "very long line", [](size_t n) { return repeat("word ", n); }, html));
  v.push_back(text_shape(
    "one tag, many attributes",
    [](size_t n) { return "<img " + repeat("a=b ", n) + "alt=x>"; }, html));
  v.push_back(text_shape(
    "unclosed comments", [](size_t n) { return repeat("<!--x", n); }, html));
  v.push_back(text_shape(
    "<img alt>*N", [](size_t n) { return repeat("<img alt=\"a\">", n); },
    html));
  return v;
}

std::vector<shape> other_shapes() {
  std::vector<shape> v;
  auto header = [](const std::string& s) { return decode_header(s).size(); };
  v.push_back(text_shape(
    "many encoded words",
    [](size_t n) { return repeat("=?utf-8?q?caf=C3=A9?= ", n); }, header));
  v.push_back(text_shape(
    "encoded words, alternating charsets",
    [](size_t n) {
      return repeat("=?utf-8?b?w6k=?= =?iso-8859-1?q?=E9?= ", n);
    },
    header));
  v.push_back(text_shape(
    "unclosed encoded words",
    [](size_t n) { return repeat("=?utf-8?q?aaa", n); }, header));
  v.push_back(text_shape(
    "encoded words closed at the end",
    [](size_t n) { return repeat("=?utf-8?q?a", n) + "?="; }, header));
  v.push_back(text_shape(
    "folded header", [](size_t n) { return repeat("a\r\n b", n); }, header));
  for (auto& h : v)
    h.base = max_header_bytes / 8; // 4n stays below the cap
  for (bool encoded : {false, true})
    v.push_back({encoded ? "many encoded continuations" : "many continuations",
                 [encoded](size_t n) {
                   auto params = std::make_shared<std::vector<parameter>>();
                   for (size_t k = 0; k < n / 32 && k < 10000; ++k)
                     params->emplace_back(
                       "name*" + std::to_string(k) + (encoded ? "*" : ""),
                       encoded ? (k == 0 ? "utf-8''%C3%A9" : "%C3%A9")
                               : "abcdefgh");
                   return std::function<size_t()>{[params] {
                     auto r = find_parameter(*params, "name");
                     return r ? r->size() : 0;
                   }};
                 }});
  auto qp = [](const std::string& s) {
    return decode_transfer_encoding(s, "quoted-printable").size();
  };
  v.push_back(text_shape(
    "qp: long space run", [](size_t n) { return repeat(" ", n) + "x"; }, qp));
  v.push_back(text_shape(
    "qp: '= '*N", [](size_t n) { return repeat("= ", n); }, qp));
  v.push_back(text_shape(
    "qp: soft breaks", [](size_t n) { return repeat("a=\r\n", n); }, qp));
  v.push_back(text_shape(
    "base64 lines", [](size_t n) { return repeat("QUJDREVGR0hJSktM\r\n", n); },
    [](const std::string& s) {
      return decode_transfer_encoding(s, "base64").size();
    }));
  v.push_back(text_shape(
    "bad Shift_JIS bytes", [](size_t n) { return repeat("\x81", n); },
    [](const std::string& s) { return to_utf8(s, "shift_jis").size(); }));
  v.push_back(text_shape(
    "bad UTF-8 bytes", [](size_t n) { return repeat("\xC3", n); },
    [](const std::string& s) { return to_utf8(s, "utf-8").size(); }));
  v.push_back(text_shape(
    "many addresses",
    [](size_t n) { return repeat("a@example.com, ", n) + "b@example.com"; },
    [](const std::string& s) {
      auto r = parse_address_list(s);
      return r ? r->size() : size_t{0};
    }));
  v.push_back(text_shape(
    "quote: many lines", [](size_t n) { return repeat("> a\n\n", n); },
    [](const std::string& s) {
      original_message m;
      m.text = s;
      return quoted_original(m).size();
    }));
  v.push_back(
    {"reply-all: many recipients", [](size_t n) {
       auto m = std::make_shared<original_message>();
       m->from.push_back({"", "sender@example.com"});
       for (size_t k = 0; k < n / 16; ++k)
         m->to.push_back({"", "r" + std::to_string(k) + "@example.com"});
       return std::function<size_t()>{[m] {
         std::vector<address> to, cc;
         derive_reply_recipients(*m, true, {"me@example.com"}, to, cc);
         return to.size() + cc.size();
       }};
     }});
  auto tree = [](size_t n, bool deep) {
    auto p = std::make_shared<part>();
    if (deep) {
      part inner;
      inner.section = "1";
      inner.type = "application";
      inner.subtype = "pdf";
      inner.disposition = "attachment";
      for (size_t k = 0; k < n / 64; ++k) {
        part outer;
        outer.type = "multipart";
        outer.subtype = k % 2 ? "alternative" : "mixed";
        outer.children.push_back(std::move(inner));
        inner = std::move(outer);
      }
      *p = std::move(inner);
    } else {
      p->type = "multipart";
      p->subtype = "mixed";
      for (size_t k = 0; k < n / 64; ++k) {
        part child;
        child.section = std::to_string(k + 1);
        child.type = "text";
        child.subtype = "plain";
        if (k % 2) {
          child.type = "image";
          child.disposition = "attachment";
        }
        p->children.push_back(std::move(child));
      }
    }
    return std::function<size_t()>{[p] {
      auto plan = plan_body(*p);
      return plan.steps.size() + plan.attachments.size()
             + (has_attachments(*p) ? 1 : 0);
    }};
  };
  v.push_back({"deep multipart", [tree](size_t n) { return tree(n, true); }});
  v.push_back({"many tiny parts", [tree](size_t n) { return tree(n, false); }});
  v.push_back({"template: list of values",
               [](size_t n) {
                 auto ctx = std::make_shared<ui::value>(ui::value::object());
                 auto list = ui::value::list();
                 for (size_t k = 0; k < n / 16; ++k)
                   list.push(ui::value{std::string{"<&\"'>`=x"}});
                 ctx->set("items", std::move(list));
                 return std::function<size_t()>{[ctx] {
                   return ui::render("{{#items}}<li>{{.}}</li>{{/items}}", *ctx)
                     .first.size();
                 }};
               },
               false});
  return v;
}

double ratio(uint64_t big, uint64_t small) {
  // A few bytes of constant cost do not make a ratio.
  return static_cast<double>(big + 64) / static_cast<double>(small + 64);
}

void check_linear(const shape& s) {
  auto small = measure(s, s.base);
  auto big = measure(s, 4 * s.base);
  EXPECT_LE(ratio(big.output, small.output), max_ratio)
    << s.name << ": output " << small.output << " -> " << big.output;
  EXPECT_LE(ratio(big.work, small.work), max_ratio)
    << s.name << ": work " << small.work << " -> " << big.work;
  EXPECT_LE(ratio(big.allocated, small.allocated), max_ratio)
    << s.name << ": allocated " << small.allocated << " -> " << big.allocated;
  // The decoders count work at all (else the check above proves nothing).
  if (s.counted) {
    EXPECT_GT(big.work, 0u) << s.name;
  }
}

} // namespace

TEST(growth, html_to_text_is_linear) {
  for (auto& s : html_shapes())
    check_linear(s);
}

TEST(growth, other_decoders_are_linear) {
  for (auto& s : other_shapes())
    check_linear(s);
}

TEST(growth, the_check_catches_quadratic_work) {
  // The property itself must be able to fail: a quadratic stand-in.
  shape quadratic{"quadratic",
                  [](size_t n) {
                    return std::function<size_t()>{[n] {
                      for (size_t i = 0; i < n / 64; ++i)
                        detail::count_work(n / 64);
                      return size_t{1};
                    }};
                  },
                  true};
  auto small = measure(quadratic, base_size);
  auto big = measure(quadratic, 4 * base_size);
  EXPECT_GT(ratio(big.work, small.work), 10.0);
}
