#include "support/fixture_server.hpp"

#include "core/base64.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <utility>
#include <vector>

namespace belay::test {
namespace {

constexpr size_t kMaxHeaderBytes = 64 * 1024;
// How long a finished connection waits for the peer's FIN before closing.
// Closing with unread bytes in the socket would send RST, and an RST can
// destroy the response the peer has not read yet.
constexpr uint64_t kLingerMs = 2000;
constexpr int kBacklog = 256;
constexpr uint64_t kMaxDelayMs = 10 * 60 * 1000;
constexpr uint64_t kMaxBigKiB = 64 * 1024;
constexpr uint64_t kMaxLongPx = 20000;
constexpr const char* kHtml = "text/html; charset=utf-8";
constexpr const char* kJson = "application/json";

// ---------------------------------------------------------------- requests

struct Request {
  std::string method;
  std::string path;  // percent-decoded
  std::map<std::string, std::string> query;
  std::map<std::string, std::string> headers;  // names lowercased
};

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// A malformed escape is kept as written: the fixture is lenient, not a validator.
std::string url_decode(std::string_view in, bool plus_is_space) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '+' && plus_is_space) {
      out += ' ';
    } else if (in[i] == '%' && i + 2 < in.size() && hex_digit(in[i + 1]) >= 0 &&
               hex_digit(in[i + 2]) >= 0) {
      out += static_cast<char>(hex_digit(in[i + 1]) * 16 + hex_digit(in[i + 2]));
      i += 2;
    } else {
      out += in[i];
    }
  }
  return out;
}

// The first occurrence of a name wins.
std::map<std::string, std::string> parse_query(std::string_view query) {
  std::map<std::string, std::string> params;
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (pair.empty()) continue;
    const size_t eq = pair.find('=');
    const std::string_view value =
        eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
    params.emplace(url_decode(pair.substr(0, eq), true), url_decode(value, true));
  }
  return params;
}

bool is_method(std::string_view s) {
  return !s.empty() && s.size() <= 16 &&
         std::all_of(s.begin(), s.end(), [](char c) { return c >= 'A' && c <= 'Z'; });
}

bool is_target(std::string_view s) {
  return !s.empty() && s[0] == '/' && std::all_of(s.begin(), s.end(), [](char c) {
    return static_cast<unsigned char>(c) > 0x20 && c != 0x7f;
  });
}

std::optional<Request> parse_request_line(std::string_view line) {
  const size_t sp1 = line.find(' ');
  const size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos) return std::nullopt;
  const std::string_view method = line.substr(0, sp1);
  const std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  const std::string_view version = line.substr(sp2 + 1);
  if (!is_method(method) || !is_target(target)) return std::nullopt;
  if (version != "HTTP/1.1" && version != "HTTP/1.0") return std::nullopt;
  const size_t qmark = target.find('?');
  Request request{std::string(method), url_decode(target.substr(0, qmark), false), {}, {}};
  if (qmark != std::string_view::npos) request.query = parse_query(target.substr(qmark + 1));
  return request;
}

// "Name: value", with a token for a name. Obsolete line folding is refused.
bool is_header_line(std::string_view line) {
  const size_t colon = line.find(':');
  if (colon == 0 || colon == std::string_view::npos) return false;
  return std::all_of(line.begin(), line.begin() + colon, [](char c) {
    return static_cast<unsigned char>(c) > 0x20 && c != 0x7f && c != '"' && c != '(' && c != ')' &&
           c != ',' && c != '/' && c != ';' && c != '<' && c != '>' && c != '@' && c != '[' &&
           c != ']' && c != '\\' && c != '{' && c != '}';
  });
}

// Collects bytes up to the blank line that ends the headers. Each line is
// checked as it completes, so garbage is refused without waiting for more.
class RequestReader {
 public:
  enum class State { kNeedMore, kDone, kBad };

  State feed(const char* data, size_t size) {
    const size_t scanned = buffer_.size();
    // Never store more than one byte past the limit: that byte proves the excess.
    buffer_.append(data, std::min(size, kMaxHeaderBytes + 1 - buffer_.size()));
    for (size_t i = scanned; i < buffer_.size(); ++i) {
      if (buffer_[i] == '\n' && complete_line(i)) return state_;
    }
    return buffer_.size() > kMaxHeaderBytes ? State::kBad : State::kNeedMore;
  }

  const Request& request() const { return *request_; }

 private:
  // Returns true once the request is decided (state_ says how).
  bool complete_line(size_t newline) {
    std::string_view line(buffer_.data() + line_start_, newline - line_start_);
    line_start_ = newline + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (!request_) {
      if (line.empty()) return false;  // RFC 9112 2.2: ignore blank lines before a request.
      request_ = parse_request_line(line);
      state_ = request_ ? State::kNeedMore : State::kBad;
      return !request_;
    }
    if (line.empty()) {
      state_ = State::kDone;
      return true;
    }
    state_ = is_header_line(line) ? State::kNeedMore : State::kBad;
    if (state_ == State::kNeedMore) {
      const size_t colon = line.find(':');
      std::string name(line.substr(0, colon));
      std::transform(name.begin(), name.end(), name.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      std::string_view value = line.substr(colon + 1);
      while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) {
        value.remove_prefix(1);
      }
      request_->headers[name] = std::string(value);
    }
    return state_ == State::kBad;
  }

  std::string buffer_;
  size_t line_start_ = 0;
  std::optional<Request> request_;
  State state_ = State::kNeedMore;
};

// --------------------------------------------------------------- responses

struct Reply {
  int status = 200;
  std::string content_type = kHtml;
  std::string body;
  uint64_t delay_ms = 0;  // send after this long (/slow)
  bool hang = false;      // never send (/hang)
};

std::string_view reason_phrase(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    default:
      return "Internal Server Error";
  }
}

// no-store: a browser must reach the server on every visit, or /item counts lie.
std::string serialize(const Reply& reply, bool head_only) {
  std::string out = "HTTP/1.1 " + std::to_string(reply.status) + " ";
  out.append(reason_phrase(reply.status));
  out += "\r\nContent-Type: " + reply.content_type;
  out += "\r\nContent-Length: " + std::to_string(reply.body.size());
  out += "\r\nCache-Control: no-store\r\nConnection: close\r\n";
  if (reply.status == 405) out += "Allow: GET, HEAD\r\n";
  out += "\r\n";
  if (!head_only) out += reply.body;
  return out;
}

std::string html_escape(std::string_view in) {
  std::string out;
  for (char c : in) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string json_text(const nlohmann::json& value) {
  return value.dump(-1, ' ', true, nlohmann::json::error_handler_t::replace);
}

// A JavaScript string literal that cannot end the <script> element it sits in.
std::string js_string(std::string_view in) {
  std::string out = json_text(std::string(in));
  for (size_t at = out.find("</"); at != std::string::npos; at = out.find("</", at + 3)) {
    out.replace(at, 2, "<\\/");
  }
  return out;
}

std::string page(std::string_view title, std::string_view body) {
  std::string out = "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>";
  out += html_escape(title);
  out += "</title></head>\n<body>\n";
  out.append(body);
  out += "\n</body></html>\n";
  return out;
}

std::string heading(std::string_view text) {
  return "<h1 id=\"heading\">" + html_escape(text) + "</h1>\n";
}

Reply html_reply(int status, std::string_view title, std::string_view body) {
  return Reply{status, kHtml, page(title, heading(title) + std::string(body))};
}

Reply error_reply(int status, std::string_view detail) {
  return html_reply(status, reason_phrase(status),
                    "<p id=\"detail\">" + html_escape(detail) + "</p>");
}

// Unparsable or missing numbers fall back to the route's default.
uint64_t number_param(const Request& request, const std::string& name, uint64_t fallback,
                      uint64_t max) {
  const auto it = request.query.find(name);
  if (it == request.query.end()) return fallback;
  uint64_t value = 0;
  const char* end = it->second.data() + it->second.size();
  const auto [ptr, ec] = std::from_chars(it->second.data(), end, value);
  if (ec != std::errc() || ptr != end) return fallback;
  return std::min(value, max);
}

std::string param(const Request& request, const std::string& name, std::string fallback) {
  const auto it = request.query.find(name);
  return it == request.query.end() ? fallback : it->second;
}

// ------------------------------------------------------------------ routes

struct RouteContext {
  HitCounter& hits;
  const std::string& static_dir;
};

Reply numbered_page(int n) {
  const std::string next = std::to_string(n % 3 + 1);
  return html_reply(
      200, "Page " + std::to_string(n),
      "<p><a id=\"to-page" + next + "\" href=\"/page" + next + "\">Page " + next + "</a></p>");
}

Reply slow_page(const Request& request) {
  const uint64_t ms = number_param(request, "ms", 1000, kMaxDelayMs);
  Reply reply = html_reply(200, "Slow", "<p id=\"waited\">" + std::to_string(ms) + "</p>");
  reply.delay_ms = ms;
  return reply;
}

// Two requests one after the other, the first sent by the load event: the
// network is busy for 2 x ms after load, with no quiet moment between. The
// first response's body is read, the second's never is (Chromium then never
// reports that request finished).
// #state says "done" (and window.lateDone is true) once both answered.
Reply late_requests_page(const Request& request) {
  const std::string slow =
      "/slow?ms=" + std::to_string(number_param(request, "ms", 1000, kMaxDelayMs));
  return html_reply(200, "Late requests",
                    "<p id=\"state\">loading</p>\n<script>\n"
                    "window.addEventListener('load', function () {\n"
                    "  fetch('" +
                        slow +
                        "').then(function (r) { return r.text(); })\n"
                        "    .then(function () { return fetch('" +
                        slow +
                        "'); })\n"
                        "    .then(function () {\n"
                        "      window.lateDone = true;\n"
                        "      document.getElementById('state').textContent = 'done';\n"
                        "    });\n"
                        "});\n</script>");
}

Reply navigate_away_page(const Request& request) {
  const uint64_t ms = number_param(request, "ms", 50, kMaxDelayMs);
  const std::string to = param(request, "to", "/page2");
  // ms=0 redirects while the page is still parsing, so before its load
  // event; a timer of any length may fire before or after that event.
  if (ms == 0) {
    return html_reply(200, "Navigating",
                      "<script>location.href = " + js_string(to) + ";</script><p>leaving</p>");
  }
  return html_reply(200, "Navigating",
                    "<script>setTimeout(function () { location.href = " + js_string(to) + "; }, " +
                        std::to_string(ms) + ");</script>");
}

Reply item_page(const Request& request, HitCounter& hits) {
  const auto key = request.query.find("key");
  if (key == request.query.end()) return error_reply(400, "/item needs ?key=");
  const int count = hits.increment(key->second);
  return html_reply(200, "Item " + key->second,
                    "<div id=\"key\">" + html_escape(key->second) + "</div>\n<div id=\"count\">" +
                        std::to_string(count) + "</div>");
}

Reply hits_json(const Request& request, const HitCounter& hits) {
  const auto key = request.query.find("key");
  nlohmann::json body = nlohmann::json::object();
  if (key != request.query.end()) {
    body = {{"key", key->second}, {"hits", hits.get(key->second)}};
  } else {
    for (const auto& [name, count] : hits.all()) body[name] = count;
  }
  return Reply{200, kJson, json_text(body)};
}

Reply form_page() {
  return html_reply(200, "Form", R"(<input id="to"> <button id="send">Send</button>
<script>
document.getElementById('send').addEventListener('click', function () {
  var value = document.getElementById('to').value;
  setTimeout(function () {
    var sent = document.getElementById('sent') || document.createElement('div');
    sent.id = 'sent';
    sent.textContent = 'sent: ' + value;
    document.body.appendChild(sent);
  }, 100);
});
</script>)");
}

Reply late_page(const Request& request) {
  const uint64_t ms = number_param(request, "ms", 500, kMaxDelayMs);
  return html_reply(200, "Late",
                    "<div id=\"hidden\" style=\"display:none\">hidden</div>\n<script>\n"
                    "setTimeout(function () {\n  var late = document.createElement('div');\n"
                    "  late.id = 'late';\n  late.textContent = 'here';\n"
                    "  document.body.appendChild(late);\n}, " +
                        std::to_string(ms) + ");\n</script>");
}

// A 1x1 transparent PNG.
Reply pixel_png() {
  static const std::string png = *belay::base64_decode(
      "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII"
      "=");
  return Reply{200, "image/png", png};
}

// n images (/pixel.png?i=K): window.loaded and window.failed count their
// load and error events; window.settled is true once each had one.
Reply images_page(const Request& request) {
  const uint64_t n = number_param(request, "n", 3, 50);
  std::string imgs;
  for (uint64_t i = 1; i <= n; ++i) {
    imgs += "<img src=\"/pixel.png?i=" + std::to_string(i) +
            "\" onload=\"seen('loaded')\" onerror=\"seen('failed')\">\n";
  }
  return html_reply(200, "Images",
                    "<script>\nwindow.loaded = 0; window.failed = 0; window.settled = false;\n"
                    "function seen(what) {\n  window[what]++;\n"
                    "  window.settled = window.loaded + window.failed === " +
                        std::to_string(n) + ";\n}\n</script>\n" + imgs);
}

// POSTs to /api/data (the server refuses: 405, it serves GET and HEAD
// only) and shows what came back in #result, its status in #status.
Reply fetch_page() {
  return html_reply(200, "Fetch", R"(<p id="status">waiting</p><pre id="result"></pre>
<script>
fetch('/api/data', { method: 'POST', body: 'question=1' }).then(function (r) {
  document.getElementById('status').textContent = String(r.status);
  return r.text();
}).then(function (text) {
  document.getElementById('result').textContent = text;
}, function (e) {
  document.getElementById('status').textContent = 'failed: ' + e.message;
});
</script>)");
}

// Opens popups: #open by window.open (/page3), #blank by a target=_blank
// link (/page2).
Reply popup_page() {
  return html_reply(200, "Popups",
                    R"HTML(<button id="open" onclick="window.open('/page3')">open</button>
<a id="blank" href="/page2" target="_blank">new tab</a>)HTML");
}

}  // namespace

std::string generated_bytes(size_t size) {
  std::string bytes(size, '\0');
  for (size_t i = 0; i < size; ++i) bytes[i] = static_cast<char>((i * 131 + i / 4096) % 256);
  return bytes;
}

namespace {

// The body is exactly kb KiB whenever that is more than the page around it.
Reply big_page(const Request& request) {
  const uint64_t size = number_param(request, "kb", 1024, kMaxBigKiB) * 1024;
  const std::string open = "<div id=\"big\">", close = "</div>";
  const size_t frame = html_reply(200, "Big", open + close).body.size();
  constexpr std::string_view kLine = "The quick brown fox jumps over the lazy dog. 0123456789\n";
  std::string filler;
  filler.reserve(size);
  while (filler.size() + frame < size) filler.append(kLine);
  filler.resize(size > frame ? size - frame : 0);
  return html_reply(200, "Big", open + filler + close);
}

// Buttons that turn clickable late, or never, for the auto-waiting element
// API, and a #target that logs every mouse event it gets. A button click
// counts in #count and pushes the button's id into window.clicks.
Reply actionable_page(const Request& request) {
  const uint64_t late_ms = number_param(request, "ms", 300, kMaxDelayMs);
  const uint64_t banner_ms = number_param(request, "banner_ms", 400, kMaxDelayMs);
  const uint64_t enable_ms = number_param(request, "enable_ms", 300, kMaxDelayMs);
  // Fixed boxes (slots, absolute positions) keep one button's change from
  // moving another; the heading above is in the flow and ends near y=80.
  constexpr std::string_view kMarkup = R"(<style>
  .at { position: absolute; left: 20px; }
  #row { top: 110px; display: flex; }
  .slot { flex: none; width: 110px; height: 30px; }
  #animated-btn { animation: slide 600ms linear 1; }
  @keyframes slide { from { transform: translateX(100px); } to { transform: none; } }
  /* Fixed like a real cookie banner: it covers #covered-btn while the page is
     scrolled to the top, and nothing else. */
  #cookie-banner { position: fixed; left: 0; top: 155px; width: 100%; height: 40px;
                   z-index: 1000; background: rgba(0, 0, 0, 0.7); color: #fff; }
  #target { top: 200px; width: 200px; height: 100px; background: #8cf; }
  #events { top: 320px; right: 20px; font: 12px monospace; overflow-wrap: anywhere; }
</style>
<div class="at" style="top: 85px">clicks: <span id="count">0</span></div>
<div id="row" class="at">
  <span class="slot" id="late-slot"></span>
  <span class="slot"><button id="disabled-btn" disabled>Disabled</button></span>
  <span class="slot"><button id="hidden-btn" style="display:none">Hidden</button></span>
  <span class="slot"><button id="invisible-btn" style="visibility:hidden">Invisible</button></span>
  <span class="slot"><button id="animated-btn">Animated</button></span>
</div>
<button id="covered-btn" class="at" style="top: 165px">Covered</button>
<div id="cookie-banner">We use cookies</div>
<div id="target" class="at"></div>
<div id="events" class="at"></div>
<div style="margin-top: 3000px"><button id="offscreen-btn">Offscreen</button></div>
)";
  constexpr std::string_view kScript = R"(<script>
var delays = window.delays;
var count = document.getElementById('count');
window.clicks = [];
window.mouseEvents = [];
function track(button) {
  button.addEventListener('click', function () {
    window.clicks.push(button.id);
    count.textContent = String(window.clicks.length);
  });
}
document.querySelectorAll('button').forEach(track);
setTimeout(function () {
  var late = document.createElement('button');
  late.id = 'late-btn';
  late.textContent = 'Late';
  track(late);
  document.getElementById('late-slot').appendChild(late);
}, delays.late);
// 0 keeps the banner, or the disabled state, for good.
if (delays.banner > 0) {
  setTimeout(function () { document.getElementById('cookie-banner').remove(); }, delays.banner);
}
if (delays.enable > 0) {
  setTimeout(function () {
    document.getElementById('disabled-btn').disabled = false;
  }, delays.enable);
}
var target = document.getElementById('target');
function record(entry) {
  window.mouseEvents.push(entry);
  var line = document.createElement('div');
  line.textContent = JSON.stringify(entry);
  document.getElementById('events').appendChild(line);
}
['mousedown', 'mouseup', 'click', 'dblclick', 'contextmenu'].forEach(function (type) {
  target.addEventListener(type, function (e) {
    record({type: e.type, button: e.button, detail: e.detail, shift: e.shiftKey,
            ctrl: e.ctrlKey, alt: e.altKey, meta: e.metaKey, x: e.offsetX, y: e.offsetY,
            trusted: e.isTrusted});
    if (e.type === 'contextmenu') e.preventDefault();  // no menu in a headful browser
  });
});
['mouseenter', 'mouseover'].forEach(function (type) {
  target.addEventListener(type, function (e) { record({type: e.type}); });
});
</script>)";
  const std::string delays = "<script>window.delays = {late: " + std::to_string(late_ms) +
                             ", banner: " + std::to_string(banner_ms) +
                             ", enable: " + std::to_string(enable_ms) + "};</script>\n";
  return html_reply(200, "Actionable", std::string(kMarkup) + delays + std::string(kScript));
}

// One control of each kind. Nothing is submitted: the page reports what it
// got through window.formEvents, window.snapshot() and #echo.
Reply inputs_page() {
  return html_reply(200, "Inputs", R"(<style>
  p { margin: 4px 0; }
  #editable { border: 1px solid #888; }
</style>
<form id="f" onsubmit="return false">
<p><input id="name"> <input id="email" type="email" value="old@x.test"></p>
<p><textarea id="bio"></textarea></p>
<p><input id="ro" readonly value="fixed"> <input id="dis" disabled></p>
<p><select id="color">
  <option value="r">Red</option><option value="g">Green</option><option value="b">Blue</option>
</select>
<select id="tags" multiple>
  <option value="a">Alpha</option><option value="b">Beta</option>
  <option value="c">Gamma</option><option value="d">Delta</option>
</select></p>
<p><input type="checkbox" id="agree"><label for="agree">Agree</label>
<input type="checkbox" id="news" checked><label for="news">News</label>
<input type="checkbox" id="locked"><label for="locked">Locked</label></p>
<p><input type="radio" name="plan" id="plan-free" value="free" checked>
<label for="plan-free">Free</label>
<input type="radio" name="plan" id="plan-pro" value="pro"><label for="plan-pro">Pro</label></p>
<div id="editable" contenteditable="true">start</div>
<p><input id="date" type="date"></p>
<p><input type="file" id="file"> <input type="file" id="files" multiple></p>
<p><button id="submit">Submit</button></p>
</form>
<pre id="echo"></pre>
<script>
function byId(id) { return document.getElementById(id); }
window.formEvents = [];
function note(e) {
  window.formEvents.push({type: e.type, id: e.target.id, trusted: e.isTrusted});
}
document.addEventListener('input', note, true);
document.addEventListener('change', note, true);
// Cancelling the click keeps #locked unchecked whatever clicks it.
byId('locked').addEventListener('click', function (e) { e.preventDefault(); });
function fileList(id) {
  return Array.from(byId(id).files).map(function (f) { return {name: f.name, size: f.size}; });
}
window.snapshot = function () {
  var plan = document.querySelector('input[name="plan"]:checked');
  return {
    name: byId('name').value, email: byId('email').value, bio: byId('bio').value,
    ro: byId('ro').value, dis: byId('dis').value, color: byId('color').value,
    tags: Array.from(byId('tags').selectedOptions).map(function (o) { return o.value; }),
    agree: byId('agree').checked, news: byId('news').checked, locked: byId('locked').checked,
    plan: plan ? plan.value : null, date: byId('date').value,
    editable: byId('editable').textContent, file: fileList('file'), files: fileList('files')
  };
};
// Resolves to null when the input holds no file.
window.fileText = function (id) {
  var file = byId(id).files[0];
  return file ? file.text() : Promise.resolve(null);
};
byId('submit').addEventListener('click', function () {
  byId('echo').textContent = JSON.stringify(window.snapshot());
});
</script>)");
}

// Every 50 ms the list's buttons are replaced by new nodes that look the
// same, so a node found a moment ago is usually gone by the time it is used.
Reply rerender_page() {
  return html_reply(200, "Rerender", R"(<ul id="list"></ul>
<script>
var list = document.getElementById('list');
var pressed = false;
window.renders = 0;
function render() {
  // A press and its release must hit the same node to make a click, so the
  // list holds still while a mouse button is down.
  if (pressed) return;
  var html = '';
  for (var n = 1; n <= 5; n++) {
    html += '<li><button class="item" data-n="' + n + '">Item ' + n + '</button></li>';
  }
  list.innerHTML = html;
  window.renders++;
}
render();
setInterval(render, 50);
document.addEventListener('mousedown', function () { pressed = true; }, true);
document.addEventListener('mouseup', function () { pressed = false; }, true);
list.addEventListener('click', function (e) {
  var button = e.target.closest('button.item');
  if (!button) return;
  window.clicked = Number(button.dataset.n);
  var picked = document.getElementById('picked') || document.createElement('div');
  picked.id = 'picked';
  picked.textContent = 'picked ' + button.dataset.n;
  document.body.appendChild(picked);
});
</script>)");
}

Reply keys_page() {
  return html_reply(200, "Keys", R"(<p><input id="field" value=""></p>
<p><textarea id="area"></textarea></p>
<script>
window.keys = [];
window.keysUp = [];
window.focusOrder = [];
function describe(e) {
  return {key: e.key, code: e.code, ctrl: e.ctrlKey, shift: e.shiftKey, alt: e.altKey,
          meta: e.metaKey, trusted: e.isTrusted};
}
document.addEventListener('keydown', function (e) { window.keys.push(describe(e)); }, true);
document.addEventListener('keyup', function (e) { window.keysUp.push(describe(e)); }, true);
document.addEventListener('focusin', function (e) { window.focusOrder.push(e.target.id); });
</script>)");
}

// The document is exactly px tall (when that is taller than the viewport):
// everything, the heading included, is positioned out of the flow.
Reply long_page(const Request& request) {
  const uint64_t px = number_param(request, "px", 5000, kMaxLongPx);
  constexpr std::string_view kStyle = R"(<style>
  body { margin: 0; }
  #heading { position: absolute; z-index: 1; top: 0; left: 200px; margin: 0; }
  #long { position: absolute; left: 0; top: 0; width: 100%;
          background: linear-gradient(#fff, #36c); }
  #top, #box, #bottom { position: absolute; left: 20px; }
  #top { top: 0; }
  #box { top: 100px; }
  #bottom { bottom: 0; }
</style>
)";
  constexpr std::string_view kContent = R"(
  <div id="top">top</div>
  <div id="box" style="width:120px;height:80px;background:#c00">box</div>
  <div id="bottom">bottom</div>
</div>)";
  return html_reply(200, "Long",
                    std::string(kStyle) + "<div id=\"long\" style=\"height: " + std::to_string(px) +
                        "px\">" + std::string(kContent));
}

// Two iframes of /inputs: one from this server, and one from `cross` (a URL
// of another server, e.g. http://localhost:PORT/inputs: another site, so
// Chromium puts it in a process of its own). The second is moved by a
// transform, so a click inside it must follow the frame's real box.
Reply frames_page(const Request& request) {
  const std::string cross = param(request, "cross", "/inputs");
  return html_reply(200, "Frames",
                    R"(<style>
  iframe { position: absolute; left: 40px; width: 560px; height: 380px; border: 5px solid #333; }
  #same-frame { top: 70px; }
  #cross-frame { top: 470px; transform: translateX(30px); }
</style>
<p id="top">top document</p>
<iframe id="same-frame" name="same" src="/inputs"></iframe>
<iframe id="cross-frame" name="cross" src=")" +
                        html_escape(cross) + R"("></iframe>)");
}

// Links the browser downloads instead of opening (the `download`
// attribute): a file the server has, one it answers 404 for, a page that
// downloads twice under one name, and 5 MiB of generated bytes.
Reply downloads_page() {
  return html_reply(200, "Downloads",
                    R"(<a id="file" href="/echo-headers" download="report.json">report</a>
<a id="big" href="/generated?kb=5120" download="data.bin">data</a>
<a id="missing" href="/no-such-file" download="gone.txt">gone</a>
<button id="twice">twice</button>
<script>
document.getElementById('twice').addEventListener('click', function () {
  document.getElementById('file').click();
  setTimeout(function () { document.getElementById('file').click(); }, 300);
});
</script>)");
}

Reply texts_page() {
  return html_reply(200, "Texts", R"(<p><button id="b1">Sign in</button>
<button id="b2">Sign in with SSO</button></p>
<p><a id="l1" href="#">  Forgot   password? </a></p>
<div id="hidden-text" style="display:none">Secret text</div>
<ul id="fruits"><li>Apple</li><li>Banana</li><li>Cherry</li></ul>
<div id="nested"><span>outer <b id="inner">Deep Text</b></span></div>
<p><a id="x" data-k="v" title="T">X link</a></p>)");
}

std::string content_type_for(const std::filesystem::path& file) {
  static const std::map<std::string, std::string, std::less<>> kTypes = {
      {".html", kHtml},
      {".htm", kHtml},
      {".js", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".json", kJson},
      {".png", "image/png"},
      {".txt", "text/plain; charset=utf-8"}};
  const auto it = kTypes.find(file.extension().string());
  return it == kTypes.end() ? "application/octet-stream" : it->second;
}

// Every segment must name something inside the directory: no "..", no ".",
// no empty segment (a leading "/" would make the path absolute).
bool is_safe_relative(std::string_view name) {
  if (name.find('\0') != std::string_view::npos || name.find('\\') != std::string_view::npos) {
    return false;
  }
  while (true) {
    const size_t slash = name.find('/');
    const std::string_view segment = name.substr(0, slash);
    if (segment.empty() || segment == "." || segment == "..") return false;
    if (slash == std::string_view::npos) return true;
    name.remove_prefix(slash + 1);
  }
}

Reply static_file(std::string_view name, const std::string& dir) {
  if (!is_safe_relative(name)) return error_reply(403, "refused static path");
  if (dir.empty()) return error_reply(404, "no static directory");
  const std::filesystem::path file = std::filesystem::path(dir) / std::string(name);
  std::error_code error;
  if (!std::filesystem::is_regular_file(file, error)) return error_reply(404, "no such file");
  std::ifstream in(file, std::ios::binary);
  std::string body((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return error_reply(404, "unreadable file");
  return Reply{200, content_type_for(file), std::move(body)};
}

Reply route(const Request& request, RouteContext context) {
  const std::string& path = request.path;
  constexpr std::string_view kStatic = "/static/";
  if (path == "/" || path == "/page1") return numbered_page(1);
  if (path == "/page2") return numbered_page(2);
  if (path == "/page3") return numbered_page(3);
  if (path == "/slow") return slow_page(request);
  if (path == "/hang") return Reply{200, kHtml, "", 0, true};
  // The document commits but never loads: its image never answers.
  if (path == "/stalled") {
    return html_reply(200, "Stalled", "<p id=\"here\">here</p><img src=\"/hang\">");
  }
  if (path == "/navigate-away") return navigate_away_page(request);
  if (path == "/item") return item_page(request, context.hits);
  if (path == "/hits") return hits_json(request, context.hits);
  if (path == "/echo-headers") return Reply{200, kJson, json_text(nlohmann::json(request.headers))};
  if (path == "/form") return form_page();
  if (path == "/late") return late_page(request);
  if (path == "/late-requests") return late_requests_page(request);
  if (path == "/pixel.png") return pixel_png();
  if (path == "/images") return images_page(request);
  if (path == "/fetch") return fetch_page();
  if (path == "/popup") return popup_page();
  if (path == "/big") return big_page(request);
  if (path == "/generated") {
    const uint64_t size = number_param(request, "kb", 1024, kMaxBigKiB) * 1024;
    return Reply{200, "application/octet-stream", generated_bytes(size)};
  }
  if (path == "/actionable") return actionable_page(request);
  if (path == "/inputs") return inputs_page();
  if (path == "/rerender") return rerender_page();
  if (path == "/keys") return keys_page();
  if (path == "/long") return long_page(request);
  if (path == "/texts") return texts_page();
  if (path == "/downloads") return downloads_page();
  if (path == "/frames") return frames_page(request);
  if (path.compare(0, kStatic.size(), kStatic) == 0) {
    return static_file(std::string_view(path).substr(kStatic.size()), context.static_dir);
  }
  return error_reply(404, path);
}

// A peer that closes mid-response makes write(2) raise SIGPIPE, which would
// kill the whole test process; libuv leaves that signal to the embedder.
void ignore_sigpipe() {
  struct sigaction current {};
  if (sigaction(SIGPIPE, nullptr, &current) == 0 && current.sa_handler == SIG_DFL) {
    std::signal(SIGPIPE, SIG_IGN);
  }
}

}  // namespace

// ------------------------------------------------------------- HitCounter

int HitCounter::increment(const std::string& key) {
  std::lock_guard<std::mutex> lock(mutex_);
  return ++counts_[key];
}

int HitCounter::get(std::string_view key) const {
  std::lock_guard<std::mutex> lock(mutex_);
  const auto it = counts_.find(key);
  return it == counts_.end() ? 0 : it->second;
}

std::map<std::string, int> HitCounter::all() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return {counts_.begin(), counts_.end()};
}

void HitCounter::reset() {
  std::lock_guard<std::mutex> lock(mutex_);
  counts_.clear();
}

// ---------------------------------------------------- handles and closing

// Runs on_stopped when its last owner lets go: the server until stop(), then
// each handle until its close callback has run.
struct FixtureServer::StopLatch {
  std::function<void()> on_stopped;
  ~StopLatch() {
    if (on_stopped) on_stopped();
  }
};

struct FixtureServer::Listener {
  FixtureServer* server = nullptr;
  std::shared_ptr<StopLatch> latch;
  uv_tcp_t tcp{};

  // After uv_close the listener belongs to its handle; this frees it.
  static void on_closed(uv_handle_t* handle) {
    std::unique_ptr<Listener> owned(static_cast<Listener*>(handle->data));
  }
};

// One accepted socket: reads one request, answers it (now, later or never),
// then half-closes and waits for the peer to finish.
class FixtureServer::Connection {
 public:
  Connection(FixtureServer* server, std::shared_ptr<StopLatch> latch)
      : server_(server), latch_(std::move(latch)) {
    tcp_.data = timer_.data = write_req_.data = shutdown_req_.data = this;
  }

  int init(uv_loop_t* loop) {
    if (int err = uv_tcp_init(loop, &tcp_)) return err;
    uv_timer_init(loop, &timer_);
    open_handles_ = 2;
    return 0;
  }

  uv_stream_t* stream() { return reinterpret_cast<uv_stream_t*>(&tcp_); }
  int start_reading() { return uv_read_start(stream(), on_alloc, on_read); }
  // The server is stopping or gone: nothing may reach it any more.
  void detach() { server_ = nullptr; }

  // Idempotent. Hands the memory to the two handles; the second close
  // callback frees it, so the server may go away first.
  void close() {
    if (closing_) return;
    closing_ = true;
    std::unique_ptr<Connection> self = server_ ? server_->take_connection(this) : nullptr;
    uv_close(reinterpret_cast<uv_handle_t*>(&tcp_), on_closed);
    uv_close(reinterpret_cast<uv_handle_t*>(&timer_), on_closed);
    (void)self.release();
  }

 private:
  enum class Phase { kReading, kWaiting, kHanging, kWriting, kLingering };

  static Connection* of(void* data) { return static_cast<Connection*>(data); }

  static void on_alloc(uv_handle_t* handle, size_t, uv_buf_t* buf) {
    auto& buffer = of(handle->data)->read_buffer_;
    *buf = uv_buf_init(buffer.data(), static_cast<unsigned int>(buffer.size()));
  }

  static void on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) {
    Connection* self = of(stream->data);
    if (nread == UV_EOF) {
      self->on_peer_done();
    } else if (nread < 0) {
      self->close();
    } else if (nread > 0) {
      self->on_bytes(buf->base, static_cast<size_t>(nread));
    }
  }

  static void on_timer(uv_timer_t* timer) {
    Connection* self = of(timer->data);
    if (self->phase_ == Phase::kWaiting) {
      self->write_response();
    } else {
      self->close();  // lingered long enough
    }
  }

  static void on_written(uv_write_t* req, int status) {
    Connection* self = of(req->data);
    if (status < 0) {
      self->close();
    } else {
      self->linger();
    }
  }

  static void on_shutdown(uv_shutdown_t* req, int status) {
    if (status < 0) of(req->data)->close();
  }

  static void on_closed(uv_handle_t* handle) {
    Connection* self = of(handle->data);
    if (--self->open_handles_ == 0) std::unique_ptr<Connection> owned(self);
  }

  // A half-closed peer may still be waiting for a delayed answer; in any
  // other phase there is nothing left to do for it.
  void on_peer_done() {
    peer_done_ = true;
    uv_read_stop(stream());
    if (phase_ != Phase::kWaiting && phase_ != Phase::kWriting) close();
  }

  // Bytes after the request (pipelined junk, a second request) are dropped.
  void on_bytes(const char* data, size_t size) {
    if (phase_ != Phase::kReading || server_ == nullptr) return;
    switch (reader_.feed(data, size)) {
      case RequestReader::State::kNeedMore:
        return;
      case RequestReader::State::kBad:
        return respond(error_reply(400, "bad request"), false);
      case RequestReader::State::kDone:
        return dispatch(reader_.request());
    }
  }

  void dispatch(const Request& request) {
    const bool head = request.method == "HEAD";
    if (request.method != "GET" && !head) {
      return respond(error_reply(405, "GET and HEAD only"), false);
    }
    respond(route(request, RouteContext{server_->hits_, server_->static_dir_}), head);
  }

  void respond(const Reply& reply, bool head_only) {
    if (reply.hang) {
      phase_ = Phase::kHanging;
      return;
    }
    response_ = serialize(reply, head_only);
    if (reply.delay_ms == 0) return write_response();
    phase_ = Phase::kWaiting;
    // At least delay_ms from now: the loop's clock is cached and truncated
    // to whole milliseconds, so a timer of exactly delay_ms could answer a
    // /slow?ms=200 request after 199 ms of real time.
    uv_update_time(timer_.loop);
    uv_timer_start(&timer_, on_timer, reply.delay_ms + 1, 0);
  }

  void write_response() {
    phase_ = Phase::kWriting;
    uv_buf_t buf = uv_buf_init(response_.data(), static_cast<unsigned int>(response_.size()));
    if (uv_write(&write_req_, stream(), &buf, 1, on_written) != 0) close();
  }

  void linger() {
    phase_ = Phase::kLingering;
    if (peer_done_ || uv_shutdown(&shutdown_req_, stream(), on_shutdown) != 0) return close();
    uv_timer_start(&timer_, on_timer, kLingerMs, 0);
  }

  FixtureServer* server_;
  std::shared_ptr<StopLatch> latch_;
  uv_tcp_t tcp_{};
  uv_timer_t timer_{};
  uv_write_t write_req_{};
  uv_shutdown_t shutdown_req_{};
  std::array<char, 16 * 1024> read_buffer_{};
  RequestReader reader_;
  std::string response_;
  Phase phase_ = Phase::kReading;
  int open_handles_ = 0;
  bool peer_done_ = false;
  bool closing_ = false;
};

// ----------------------------------------------------------- FixtureServer

FixtureServer::FixtureServer(uv_loop_t* loop)
    : loop_(loop), latch_(std::make_shared<StopLatch>()) {}

FixtureServer::~FixtureServer() {
  if (latch_) stop();
}

int FixtureServer::start(int port) {
  if (listener_ || !latch_) return UV_EINVAL;  // already started, or stopped
  ignore_sigpipe();
  listener_ = std::make_unique<Listener>();
  listener_->server = this;
  listener_->latch = latch_;
  listener_->tcp.data = listener_.get();
  if (int err = uv_tcp_init(loop_, &listener_->tcp)) {
    listener_.reset();  // never initialised, so nothing to close
    return err;
  }
  sockaddr_in addr{};
  int err = uv_ip4_addr("127.0.0.1", port, &addr);
  if (err == 0) err = uv_tcp_bind(&listener_->tcp, reinterpret_cast<const sockaddr*>(&addr), 0);
  auto* stream = reinterpret_cast<uv_stream_t*>(&listener_->tcp);
  if (err == 0) err = uv_listen(stream, kBacklog, on_connection);
  sockaddr_storage bound{};
  int length = sizeof bound;
  if (err == 0) {
    err = uv_tcp_getsockname(&listener_->tcp, reinterpret_cast<sockaddr*>(&bound), &length);
  }
  if (err != 0) {
    uv_close(reinterpret_cast<uv_handle_t*>(&listener_->tcp), Listener::on_closed);
    (void)listener_.release();
    return err;
  }
  port_ = ntohs(reinterpret_cast<const sockaddr_in*>(&bound)->sin_port);
  return port_;
}

void FixtureServer::stop(std::function<void()> on_stopped) {
  if (!latch_) {  // stopped before: nothing of ours is open any more
    if (on_stopped) on_stopped();
    return;
  }
  latch_->on_stopped = std::move(on_stopped);
  if (listener_) {
    uv_close(reinterpret_cast<uv_handle_t*>(&listener_->tcp), Listener::on_closed);
    (void)listener_.release();
  }
  auto open = std::exchange(connections_, {});
  for (auto& [raw, connection] : open) {
    connection->detach();
    connection->close();
    (void)connection.release();  // now owned by its handles
  }
  latch_.reset();  // the last handle to close runs on_stopped
}

std::string FixtureServer::url(std::string_view path) const {
  return "http://127.0.0.1:" + std::to_string(port_) + std::string(path);
}

void FixtureServer::on_connection(uv_stream_t* stream, int status) {
  if (status == 0) static_cast<Listener*>(stream->data)->server->accept_connection();
}

void FixtureServer::accept_connection() {
  auto connection = std::make_unique<Connection>(this, latch_);
  if (connection->init(loop_) != 0) return;
  Connection* raw = connection.get();
  connections_.emplace(raw, std::move(connection));
  auto* listener = reinterpret_cast<uv_stream_t*>(&listener_->tcp);
  if (uv_accept(listener, raw->stream()) != 0 || raw->start_reading() != 0) raw->close();
}

std::unique_ptr<FixtureServer::Connection> FixtureServer::take_connection(Connection* connection) {
  auto node = connections_.extract(connection);
  return node ? std::move(node.mapped()) : nullptr;
}

// ------------------------------------------------- BackgroundFixtureServer

BackgroundFixtureServer::BackgroundFixtureServer() : BackgroundFixtureServer(std::string()) {}

BackgroundFixtureServer::BackgroundFixtureServer(std::string static_dir) {
  std::promise<int> listening;
  std::future<int> port = listening.get_future();
  std::promise<void> finished;
  finished_ = finished.get_future();
  thread_ = std::thread(&BackgroundFixtureServer::run, this, std::move(static_dir),
                        std::move(listening), std::move(finished));
  port_ = port.get();
  if (port_ < 0) {
    thread_.join();  // the thread has closed what it opened
    throw std::runtime_error(std::string("fixture server cannot listen: ") + uv_strerror(port_));
  }
}

BackgroundFixtureServer::~BackgroundFixtureServer() {
  if (const int result = shutdown(); result != 0) {
    ADD_FAILURE() << "fixture server loop did not close cleanly: " << uv_strerror(result);
  }
}

int BackgroundFixtureServer::shutdown() {
  if (!joined_) {
    uv_async_send(&stop_async_);
    if (finished_.wait_for(std::chrono::seconds(10)) != std::future_status::ready) {
      std::fprintf(stderr, "fixture server: loop still busy 10 s after stop; a handle leaked\n");
      std::abort();
    }
    thread_.join();
    joined_ = true;
  }
  return loop_close_result_;
}

std::string BackgroundFixtureServer::url(std::string_view path) const {
  return "http://127.0.0.1:" + std::to_string(port_) + std::string(path);
}

void BackgroundFixtureServer::run(std::string static_dir, std::promise<int> listening,
                                  std::promise<void> finished) {
  if (int err = uv_loop_init(&loop_)) {
    listening.set_value(err);
    finished.set_value();
    return;
  }
  uv_async_init(&loop_, &stop_async_, on_stop_requested);
  stop_async_.data = this;
  server_ = std::make_unique<FixtureServer>(&loop_);
  server_->set_static_dir(std::move(static_dir));
  const int port = server_->start();
  if (port < 0) {
    server_->stop();
    uv_close(reinterpret_cast<uv_handle_t*>(&stop_async_), nullptr);
  }
  listening.set_value(port);
  uv_run(&loop_, UV_RUN_DEFAULT);
  loop_close_result_ = uv_loop_close(&loop_);
  finished.set_value();
}

void BackgroundFixtureServer::on_stop_requested(uv_async_t* async) {
  auto* self = static_cast<BackgroundFixtureServer*>(async->data);
  self->server_->stop();
  uv_close(reinterpret_cast<uv_handle_t*>(async), nullptr);
}

}  // namespace belay::test
