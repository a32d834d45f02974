// SPDX-License-Identifier: Apache-2.0
// Hostile inputs for every decoder (issue 14): each shape at a few sizes,
// each run in a child process under a CPU-time and an address-space limit,
// so a quadratic case reports "timeout" and a blow-up "out of memory"
// instead of taking the machine down. Prints one row per case: input
// bytes, CPU seconds, peak RSS of that child, output bytes.
//
//   postern-adversarial-bench [--cpu SECONDS] [--mem MIB] [--max BYTES]
//                             [filter]
//
// Times are CPU time (user + system) of the child, from wait4().

#include "postern/mime/address.hpp"
#include "postern/mime/charset.hpp"
#include "postern/mime/compose.hpp"
#include "postern/mime/header.hpp"
#include "postern/mime/html.hpp"
#include "postern/mime/structure.hpp"
#include "postern/mime/transfer_encoding.hpp"
#include "postern/ui/template.hpp"

#include <sys/resource.h>
#include <sys/wait.h>

#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <new>
#include <string>
#include <vector>

namespace {

using namespace postern;

// Repeats `unit` until the text has at least `size` bytes.
std::string repeat(std::string_view unit, size_t size) {
  std::string out;
  out.reserve(size + unit.size());
  while (out.size() < size)
    out += unit;
  return out;
}

// N copies of `open`, then N of `close`, in `size` bytes overall.
std::string nest(std::string_view open, std::string_view middle,
                 std::string_view close, size_t size) {
  auto n = size / (open.size() + close.size());
  std::string out;
  out.reserve(size + middle.size());
  for (size_t k = 0; k < n; ++k)
    out += open;
  out += middle;
  for (size_t k = 0; k < n; ++k)
    out += close;
  return out;
}

mime::part leaf(std::string section) {
  mime::part p;
  p.section = std::move(section);
  p.type = "text";
  p.subtype = "plain";
  p.encoding = "7bit";
  p.size = 1;
  return p;
}

// A multipart/mixed nested `depth` times around one text part.
mime::part deep_multipart(size_t depth) {
  mime::part p = leaf("1");
  for (size_t k = 0; k < depth; ++k) {
    mime::part outer;
    outer.type = "multipart";
    outer.subtype = k % 2 == 0 ? "mixed" : "alternative";
    outer.children.push_back(std::move(p));
    p = std::move(outer);
  }
  return p;
}

mime::part wide_multipart(size_t count) {
  mime::part p;
  p.type = "multipart";
  p.subtype = "mixed";
  for (size_t k = 0; k < count; ++k) {
    auto child = leaf(std::to_string(k + 1));
    if (k % 2 == 1) {
      child.type = "application";
      child.subtype = "octet-stream";
      child.disposition = "attachment";
      child.disposition_params.emplace_back("filename", "f.bin");
    }
    p.children.push_back(std::move(child));
  }
  return p;
}

size_t plan_size(const mime::body_plan& plan) {
  size_t n = 0;
  for (auto& s : plan.steps)
    n += s.literal.size() + s.section.size();
  for (auto& a : plan.attachments)
    n += a.part_id.size() + a.filename.size() + a.mime_type.size();
  return n;
}

struct shape {
  const char* name;
  const char* decoder;
  // Builds the input of about `size` bytes and runs the decoder on it;
  // returns the output bytes. Only the run counts: the input is built
  // first and the CPU time before the run is subtracted.
  std::function<std::function<size_t()>(size_t size)> make;
};

template <class F>
std::function<std::function<size_t()>(size_t)>
text_case(std::function<std::string(size_t)> gen, F run) {
  return [gen, run](size_t size) -> std::function<size_t()> {
    auto input = std::make_shared<std::string>(gen(size));
    return [input, run] { return run(*input); };
  };
}

size_t html(const std::string& s) {
  return mime::html_to_text(s).size();
}

std::vector<shape> shapes() {
  std::vector<shape> v;
  auto h = [&](const char* name, std::function<std::string(size_t)> gen) {
    v.push_back({name, "html_to_text", text_case(gen, html)});
  };
  h("ul*N li*N", [](size_t n) {
    auto half = n / 2;
    return repeat("<ul>", half) + repeat("<li>x", half);
  });
  h("ol*N li*N", [](size_t n) {
    auto half = n / 2;
    return repeat("<ol>", half) + repeat("<li>x", half);
  });
  h("<script></script>*N",
    [](size_t n) { return repeat("<script>x</script>", n); });
  h("<style>*N unclosed", [](size_t n) { return repeat("<style>x", n); });
  h("<svg>*N unclosed", [](size_t n) { return repeat("<svg>x", n); });
  h("nested <a>*N", [](size_t n) {
    return nest("<a href=\"http://e.com/\">", "label", "</a>", n);
  });
  h("nested <a>*N text", [](size_t n) {
    return nest("<a href=\"http://e.com/\">x", "label", "</a>", n);
  });
  h("nested <div>*N", [](size_t n) { return nest("<div>", "x", "</div>", n); });
  h("nested <blockquote>*N",
    [](size_t n) { return nest("<blockquote>x", "x", "</blockquote>", n); });
  h("nested <b><i><span>*N",
    [](size_t n) { return nest("<b><i><span>", "x", "</span></i></b>", n); });
  h("nested <table><tr><td>*N", [](size_t n) {
    return nest("<table><tr><td>", "x", "</td></tr></table>", n);
  });
  h("<p>x*N (many tags)", [](size_t n) { return repeat("<p>x</p>", n); });
  h("&amp;*N", [](size_t n) { return repeat("&amp;", n); });
  h("&*N (no semicolon)", [](size_t n) { return repeat("&", n); });
  h("&#x41;*N", [](size_t n) { return repeat("&#x41;", n); });
  h("<hr>*N", [](size_t n) { return repeat("<hr>", n); });
  h("<br>*N", [](size_t n) { return repeat("<br>", n); });
  h("<pre>\\n*N then <p><br>*N", [](size_t n) {
    return "<pre>" + repeat("\n", n / 2) + "</pre>" + repeat("<p><br>", n / 2);
  });
  h("<img alt>*N", [](size_t n) { return repeat("<img alt=\"a\">", n); });
  h("one tag, N attributes",
    [](size_t n) { return "<img " + repeat("a=b ", n) + "alt=x>"; });
  h("long line, no tags", [](size_t n) { return repeat("word ", n); });
  h("<!-- unclosed *N", [](size_t n) { return repeat("<!--x", n); });

  auto hd = [&](const char* name, std::function<std::string(size_t)> gen) {
    v.push_back(
      {name, "decode_header", text_case(gen, [](const std::string& s) {
         return mime::decode_header(s).size();
       })});
  };
  hd("encoded words*N",
     [](size_t n) { return repeat("=?utf-8?q?caf=C3=A9?= ", n); });
  hd("encoded words*N, charsets alternate", [](size_t n) {
    return repeat("=?utf-8?b?w6k=?= =?iso-8859-1?q?=E9?= ", n);
  });
  hd("unclosed encoded words*N",
     [](size_t n) { return repeat("=?utf-8?q?aaa", n); });
  hd("=?*N", [](size_t n) { return repeat("=?", n); });
  hd("folded lines*N", [](size_t n) { return repeat("a\r\n b", n); });
  hd("long line", [](size_t n) { return repeat("x", n); });

  auto params = [](size_t n, bool encoded) {
    std::vector<mime::parameter> p;
    size_t bytes = 0;
    for (size_t k = 0; bytes < n && k < 100000; ++k) {
      auto key = "filename*" + std::to_string(k) + (encoded ? "*" : "");
      std::string value = encoded ? (k == 0 ? "utf-8''%C3%A9" : "%C3%A9")
                                  : "abcdefgh";
      bytes += key.size() + value.size();
      p.emplace_back(std::move(key), std::move(value));
    }
    return p;
  };
  for (bool encoded : {false, true})
    v.push_back({encoded ? "RFC 2231 continuations*N, encoded"
                         : "RFC 2231 continuations*N",
                 "find_parameter", [params, encoded](size_t n) {
                   auto p = std::make_shared<std::vector<mime::parameter>>(
                     params(n, encoded));
                   return std::function<size_t()>{[p] {
                     auto r = mime::find_parameter(*p, "filename");
                     return r ? r->size() : 0;
                   }};
                 }});

  auto te = [&](const char* name, const char* encoding,
                std::function<std::string(size_t)> gen) {
    v.push_back({name, "decode_transfer_encoding",
                 text_case(gen, [encoding](const std::string& s) {
                   return mime::decode_transfer_encoding(s, encoding).size();
                 })});
  };
  te("qp: spaces*N then x", "quoted-printable",
     [](size_t n) { return repeat(" ", n) + "x"; });
  te("qp: '= '*N", "quoted-printable",
     [](size_t n) { return repeat("= ", n); });
  te("qp: soft breaks*N", "quoted-printable",
     [](size_t n) { return repeat("a=\r\n", n); });
  te("qp: =XX*N", "quoted-printable",
     [](size_t n) { return repeat("=C3=A9", n); });
  te("base64 lines", "base64", [](size_t n) {
    return repeat("QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo=\r\n", n);
  });
  te("base64 garbage", "base64", [](size_t n) { return repeat("!*", n); });

  auto cs = [&](const char* name, const char* charset,
                std::function<std::string(size_t)> gen) {
    v.push_back(
      {name, "to_utf8", text_case(gen, [charset](const std::string& s) {
         return mime::to_utf8(s, charset).size();
       })});
  };
  cs("8-bit bytes, no charset", "", [](size_t n) { return repeat("\xE9", n); });
  cs("invalid UTF-8 as utf-8", "utf-8",
     [](size_t n) { return repeat("\xC3", n); });
  cs("invalid Shift_JIS", "shift_jis",
     [](size_t n) { return repeat("\x81", n); });
  cs("UTF-7 shifts", "utf-7", [](size_t n) { return repeat("+AGEAYQ-", n); });

  v.push_back(
    {"addresses*N", "parse_address_list",
     text_case(
       [](size_t n) { return repeat("a@example.com, ", n) + "b@example.com"; },
       [](const std::string& s) {
         auto r = mime::parse_address_list(s);
         return r ? r->size() : size_t{0};
       })});

  v.push_back({"deep multipart", "plan_body", [](size_t n) {
                 auto p = std::make_shared<mime::part>(deep_multipart(n / 64));
                 return std::function<size_t()>{[p] {
                   return plan_size(mime::plan_body(*p))
                          + (mime::has_attachments(*p) ? 1 : 0);
                 }};
               }});
  v.push_back({"many tiny parts", "plan_body", [](size_t n) {
                 auto p = std::make_shared<mime::part>(wide_multipart(n / 64));
                 return std::function<size_t()>{
                   [p] { return plan_size(mime::plan_body(*p)); }};
               }});

  auto text_step = [](bool flowed) {
    mime::text_step s;
    s.section = "1";
    s.encoding = "quoted-printable";
    s.charset = "utf-8";
    s.flowed = flowed;
    return s;
  };
  v.push_back({"flowed: soft lines*N", "decode_text",
               text_case([](size_t n) { return repeat("a \r\n", n); },
                         [text_step](const std::string& s) {
                           return mime::decode_text(s, text_step(true)).size();
                         })});
  v.push_back({"flowed: '>'*N", "decode_text",
               text_case([](size_t n) { return repeat(">", n) + " x"; },
                         [text_step](const std::string& s) {
                           return mime::decode_text(s, text_step(true)).size();
                         })});

  v.push_back({"quote: empty lines*N", "quoted_original",
               text_case([](size_t n) { return repeat("\n", n); },
                         [](const std::string& s) {
                           mime::original_message m;
                           m.text = s;
                           return mime::quoted_original(m).size();
                         })});
  v.push_back(
    {"reply-all: recipients*N", "compose_reply", [](size_t n) {
       auto m = std::make_shared<mime::original_message>();
       m->from.push_back({"", "sender@example.com"});
       for (size_t k = 0; k < n / 24; ++k)
         m->to.push_back({"", "r" + std::to_string(k) + "@example.com"});
       return std::function<size_t()>{[m] {
         mime::compose_request r;
         r.kind = mime::compose_kind::reply;
         r.reply_all = true;
         r.quote = false;
         r.message.text = "ok";
         auto out = mime::compose_reply(*m, r, {"me@example.com"});
         return out.to.size() + out.cc.size();
       }};
     }});

  v.push_back({"template: list of N values", "ui::render", [](size_t n) {
                 auto ctx = std::make_shared<ui::value>(ui::value::object());
                 auto list = ui::value::list();
                 for (size_t k = 0; k < n / 16; ++k)
                   list.push(ui::value{std::string{"<&\"'>`=x"}});
                 ctx->set("items", std::move(list));
                 return std::function<size_t()>{[ctx] {
                   return ui::render("{{#items}}<li>{{.}}</li>{{/items}}", *ctx)
                     .first.size();
                 }};
               }});
  v.push_back({"template: nested sections*N", "ui::render", [](size_t n) {
                 auto t = std::make_shared<std::string>(
                   nest("{{#a}}", "x", "{{/a}}", n));
                 return std::function<size_t()>{[t] {
                   auto ctx = ui::value::object();
                   ctx.set("a", ui::value{true});
                   auto [out, err] = ui::render(*t, ctx);
                   return err ? err->message.size() : out.size();
                 }};
               }});
  return v;
}

double cpu_seconds(const rusage& r) {
  return static_cast<double>(r.ru_utime.tv_sec + r.ru_stime.tv_sec)
         + static_cast<double>(r.ru_utime.tv_usec + r.ru_stime.tv_usec) / 1e6;
}

struct child_report {
  double setup_cpu = 0;
  size_t output = 0;
  int status = 0; // 0 ok, 1 out of memory
};

void run_child(const shape& s, size_t size, int fd, rlim_t cpu, rlim_t mem) {
  child_report report;
  rlimit as{mem, mem};
  setrlimit(RLIMIT_AS, &as);
  try {
    auto run = s.make(size);
    rusage before{};
    getrusage(RUSAGE_SELF, &before);
    report.setup_cpu = cpu_seconds(before);
    // The limit counts from here on (plus what setup used).
    rlimit limit{static_cast<rlim_t>(report.setup_cpu) + cpu,
                 static_cast<rlim_t>(report.setup_cpu) + cpu + 1};
    setrlimit(RLIMIT_CPU, &limit);
    report.output = run();
  } catch (const std::bad_alloc&) {
    report.status = 1;
  }
  auto n = write(fd, &report, sizeof report);
  _exit(n == static_cast<ssize_t>(sizeof report) ? 0 : 3);
}

std::string human(size_t bytes) {
  char buf[32];
  if (bytes >= (1u << 20))
    std::snprintf(buf, sizeof buf, "%.1f MiB",
                  static_cast<double>(bytes) / (1 << 20));
  else if (bytes >= 1024)
    std::snprintf(buf, sizeof buf, "%zu KiB", bytes / 1024);
  else
    std::snprintf(buf, sizeof buf, "%zu B", bytes);
  return buf;
}

} // namespace

int main(int argc, char** argv) {
  rlim_t cpu = 5;
  rlim_t mem_mib = 3072;
  size_t max_size = 4u << 20;
  std::string filter;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--cpu" && i + 1 < argc)
      cpu = std::strtoul(argv[++i], nullptr, 10);
    else if (arg == "--mem" && i + 1 < argc)
      mem_mib = std::strtoul(argv[++i], nullptr, 10);
    else if (arg == "--max" && i + 1 < argc)
      max_size = std::strtoul(argv[++i], nullptr, 10);
    else
      filter = arg;
  }
  std::printf("| decoder | shape | input | CPU s | peak RSS | output |\n");
  std::printf("|---|---|---|---|---|---|\n");
  std::fflush(stdout);
  for (auto& s : shapes()) {
    if (!filter.empty() && std::string{s.name}.find(filter) == std::string::npos
        && std::string{s.decoder}.find(filter) == std::string::npos)
      continue;
    bool gave_up = false;
    for (size_t size = 64u << 10; size <= max_size; size *= 4) {
      if (gave_up) {
        std::printf("| %s | %s | %s | skipped | | |\n", s.decoder, s.name,
                    human(size).c_str());
        continue;
      }
      int fds[2];
      if (pipe(fds) != 0)
        return 1;
      auto pid = fork();
      if (pid == 0) {
        close(fds[0]);
        run_child(s, size, fds[1], cpu, mem_mib << 20);
      }
      close(fds[1]);
      child_report report;
      auto got = read(fds[0], &report, sizeof report);
      close(fds[0]);
      int status = 0;
      rusage usage{};
      wait4(pid, &status, 0, &usage);
      auto rss = static_cast<size_t>(usage.ru_maxrss) * 1024;
      std::string time, out;
      if (WIFSIGNALED(status)
          && (WTERMSIG(status) == SIGXCPU || WTERMSIG(status) == SIGKILL)) {
        time = "timeout (>" + std::to_string(cpu) + " s)";
        gave_up = true;
      } else if (got != static_cast<ssize_t>(sizeof report) || report.status) {
        time = WIFSIGNALED(status)
                 ? "crash (signal " + std::to_string(WTERMSIG(status)) + ")"
                 : "out of memory";
        gave_up = true;
      } else {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%.3f",
                      cpu_seconds(usage) - report.setup_cpu);
        time = buf;
        out = human(report.output);
      }
      std::printf("| %s | %s | %s | %s | %s | %s |\n", s.decoder, s.name,
                  human(size).c_str(), time.c_str(), human(rss).c_str(),
                  out.c_str());
      std::fflush(stdout);
    }
  }
  return 0;
}
