#include "browser/page_actions.hpp"

#include "cdp/classify.hpp"
#include "cdp/reply_fields.hpp"
#include "core/base64.hpp"
#include "core/defer.hpp"
#include "core/private_files.hpp"

#include <array>
#include <cstdio>
#include <memory>

namespace belay::browser {
namespace {

// Errors these actions make themselves name the CDP method they rely on; a
// binding names its own call (page:click) when the error reaches Lua.
constexpr const char* kEvaluate = "Runtime.evaluate";
constexpr const char* kKeyEvent = "Input.dispatchKeyEvent";
constexpr const char* kScreenshot = "Page.captureScreenshot";

// The page-side half of wait_for: resolves true when the selector matches,
// false when its own timer runs out. A MutationObserver catches changes at
// once; the interval catches what mutations do not (style, layout).
constexpr const char* kWaitForJs = R"JS((selector, visible, timeoutMs) => new Promise((resolve) => {
  const ok = () => {
    const el = document.querySelector(selector);
    if (!el) return false;
    if (!visible) return true;
    const style = getComputedStyle(el);
    const rect = el.getBoundingClientRect();
    return style.visibility !== 'hidden' && style.display !== 'none' &&
           rect.width > 0 && rect.height > 0;
  };
  if (ok()) return resolve(true);
  let observer, interval, timer;
  const finish = (value) => {
    observer.disconnect(); clearInterval(interval); clearTimeout(timer); resolve(value);
  };
  observer = new MutationObserver(() => { if (ok()) finish(true); });
  observer.observe(document, {childList: true, subtree: true, attributes: true});
  interval = setInterval(() => { if (ok()) finish(true); }, 50);
  timer = setTimeout(() => finish(ok()), timeoutMs);
}))JS";

constexpr const char* kClickPointJs = R"JS((selector) => {
  const el = document.querySelector(selector);
  if (!el) return null;
  el.scrollIntoView({block: 'center', inline: 'center'});
  const r = el.getBoundingClientRect();
  return {x: r.left + r.width / 2, y: r.top + r.height / 2};
})JS";

constexpr const char* kFocusJs = R"JS((selector) => {
  const el = document.querySelector(selector);
  if (!el) return false;
  el.focus();
  if (typeof el.setSelectionRange === 'function' && typeof el.value === 'string') {
    try { el.setSelectionRange(el.value.length, el.value.length); } catch (e) {}
  }
  return true;
})JS";

constexpr const char* kTextJs = R"JS((selector) => {
  const el = document.querySelector(selector);
  return el ? el.innerText : null;
})JS";

// The extra time the CDP call gets over the page-side timer, so a slow but
// alive page reports not_found, and only a hung one reports timeout.
constexpr uint64_t kPageGraceMs = 2000;

constexpr std::array<KeyDefinition, 16> kKeys = {{
    {"Enter", "Enter", 13, "\r"},
    {"Tab", "Tab", 9, ""},
    {"Backspace", "Backspace", 8, ""},
    {"Escape", "Escape", 27, ""},
    {"Delete", "Delete", 46, ""},
    {"ArrowLeft", "ArrowLeft", 37, ""},
    {"ArrowUp", "ArrowUp", 38, ""},
    {"ArrowRight", "ArrowRight", 39, ""},
    {"ArrowDown", "ArrowDown", 40, ""},
    {"Home", "Home", 36, ""},
    {"End", "End", 35, ""},
    {"PageUp", "PageUp", 33, ""},
    {"PageDown", "PageDown", 34, ""},
    {"Space", "Space", 32, " "},
    {" ", "Space", 32, " "},
    {"Insert", "Insert", 45, ""},
}};

Error not_found(const std::string& selector, const std::string& op, const std::string& why) {
  return Error{Kind::not_found, "no element matches '" + selector + "'" + why, op, {}};
}

// An action that goes on after a reply holds the page by reference; a page
// destroyed while the reply was in flight (replaced by the supervisor,
// reopened by a ladder step) ends the action instead of being touched.
Error page_closed_during(const std::string& op) {
  return cdp::session_detached("the page was closed during the call", op);
}

// Sends the commands one after another; stops at the first failure.
void send_sequence(Page& page, std::vector<cdp::Command> commands, size_t index, Page::Done done) {
  if (index >= commands.size()) return done(json(nullptr));
  cdp::Command next = commands[index];
  page.send(std::move(next), [&page, alive = page.lifetime(), commands = std::move(commands), index,
                              done = std::move(done)](Result<json> r) mutable {
    if (!r) return done(std::move(r));
    if (alive.expired()) return done(page_closed_during(commands[index].op));
    send_sequence(page, std::move(commands), index + 1, std::move(done));
  });
}

// A wait_for in progress. It outlives the document it started in: a page
// that navigates during the wait (a redirect, a submitted form) destroys the
// page-side half, and the wait looks again in the new document until its
// deadline, as Puppeteer's waitForSelector and Playwright's locators do.
struct SelectorWait {
  Page* page = nullptr;
  std::weak_ptr<bool> page_alive;
  uv_loop_t* loop = nullptr;
  std::string selector;
  WaitForOptions options;
  uint64_t deadline = 0;
  bool stopped = false;  // its caller is gone: look no more
  Page::Done done;
};

// The pause before looking in the next document: its context may not exist
// yet, and a page that keeps navigating must not be asked in a tight loop.
constexpr uint64_t kLookAgainPauseMs = 20;

void look_for_selector(std::shared_ptr<SelectorWait> wait) {
  uv_update_time(wait->loop);
  const uint64_t now = uv_now(wait->loop);
  const uint64_t left = wait->deadline > now ? wait->deadline - now : 0;
  wait->page->call_function(
      kWaitForJs, json::array({wait->selector, wait->options.visible, left}), left + kPageGraceMs,
      kEvaluate, [wait](Result<json> r) {
        if (!r && r.error().kind == Kind::context_destroyed && !wait->page_alive.expired() &&
            !wait->stopped) {
          uv_update_time(wait->loop);
          if (uv_now(wait->loop) + kLookAgainPauseMs < wait->deadline) {
            return defer_after(wait->loop, kLookAgainPauseMs, [wait] {
              if (wait->stopped) {
                return wait->done(
                    Error{Kind::cancelled, "the wait was stopped by its caller", kEvaluate, {}});
              }
              if (wait->page_alive.expired()) {
                return wait->done(
                    Error{Kind::target_closed,
                          "the page was closed while it waited for '" + wait->selector + "'",
                          kEvaluate,
                          {}});
              }
              look_for_selector(wait);
            });
          }
          r = Result<json>(json(false));  // the deadline came with the navigation
        }
        if (!r) return wait->done(std::move(r));
        if (r.value() != true) {
          return wait->done(not_found(wait->selector, kEvaluate,
                                      (wait->options.visible ? " visibly" : std::string()) +
                                          " within " + std::to_string(wait->options.timeout_ms) +
                                          " ms"));
        }
        wait->done(json(true));
      });
}

cdp::Command key_event(const std::string& type, const KeyDefinition& key, uint64_t timeout_ms,
                       const char* op) {
  json params = {{"type", type},
                 {"key", key.key},
                 {"code", key.code},
                 {"windowsVirtualKeyCode", key.key_code},
                 {"nativeVirtualKeyCode", key.key_code}};
  if (type == "keyDown" && key.text[0] != '\0') {
    params["text"] = key.text;
    params["unmodifiedText"] = key.text;
  }
  return cdp::Command{"Input.dispatchKeyEvent", std::move(params), "", timeout_ms, op};
}

}  // namespace

const KeyDefinition* find_key(const std::string& name) {
  for (const auto& key : kKeys) {
    if (name == key.key) return &key;
  }
  return nullptr;
}

std::function<void()> wait_for(Page& page, const std::string& selector, WaitForOptions options,
                               Page::Done done) {
  auto wait = std::make_shared<SelectorWait>();
  wait->page = &page;
  wait->page_alive = page.lifetime();
  wait->loop = page.loop();
  wait->selector = selector;
  wait->options = options;
  uv_update_time(wait->loop);
  wait->deadline = uv_now(wait->loop) + options.timeout_ms;
  wait->done = std::move(done);
  look_for_selector(wait);
  return [stop = std::weak_ptr<SelectorWait>(wait)] {
    if (auto wait = stop.lock()) wait->stopped = true;
  };
}

void exists(Page& page, const std::string& selector, uint64_t timeout_ms, Page::Done done) {
  page.call_function("(s) => document.querySelector(s) !== null", json::array({selector}),
                     timeout_ms, kEvaluate, std::move(done));
}

void click(Page& page, const std::string& selector, uint64_t timeout_ms, Page::Done done) {
  page.call_function(
      kClickPointJs, json::array({selector}), timeout_ms, kEvaluate,
      [&page, alive = page.lifetime(), selector, timeout_ms,
       done = std::move(done)](Result<json> r) {
        if (!r) return done(std::move(r));
        if (alive.expired()) return done(page_closed_during(kEvaluate));
        if (!r.value().is_object()) return done(not_found(selector, kEvaluate, ""));
        const double x = cdp::number_field(r.value(), "x", 0.0);
        const double y = cdp::number_field(r.value(), "y", 0.0);
        std::vector<cdp::Command> mouse;
        for (const char* type : {"mouseMoved", "mousePressed", "mouseReleased"}) {
          json params = {{"type", type}, {"x", x}, {"y", y}};
          if (std::string(type) != "mouseMoved") {
            params["button"] = "left";
            params["clickCount"] = 1;
          }
          mouse.push_back(cdp::Command{"Input.dispatchMouseEvent", params, "", timeout_ms, ""});
        }
        send_sequence(page, std::move(mouse), 0, done);
      });
}

void type_text(Page& page, const std::string& selector, const std::string& text,
               uint64_t timeout_ms, Page::Done done) {
  page.call_function(
      kFocusJs, json::array({selector}), timeout_ms, kEvaluate,
      [&page, alive = page.lifetime(), selector, text, timeout_ms,
       done = std::move(done)](Result<json> r) {
        if (!r) return done(std::move(r));
        if (alive.expired()) return done(page_closed_during(kEvaluate));
        if (r.value() != true) return done(not_found(selector, kEvaluate, ""));
        // One keyDown/keyUp per character, with the text on keyDown, so the
        // page sees key events and input events as from a keyboard.
        std::vector<cdp::Command> keys;
        size_t i = 0;
        while (i < text.size()) {
          size_t len = 1;
          const auto c = static_cast<unsigned char>(text[i]);
          if (c >= 0xF0)
            len = 4;
          else if (c >= 0xE0)
            len = 3;
          else if (c >= 0xC0)
            len = 2;
          const std::string ch = text.substr(i, len);
          i += len;
          if (ch == "\n" || ch == "\r") {
            keys.push_back(key_event("keyDown", *find_key("Enter"), timeout_ms, ""));
            keys.push_back(key_event("keyUp", *find_key("Enter"), timeout_ms, ""));
            continue;
          }
          keys.push_back(
              cdp::Command{"Input.dispatchKeyEvent",
                           {{"type", "keyDown"}, {"key", ch}, {"text", ch}, {"unmodifiedText", ch}},
                           "",
                           timeout_ms,
                           ""});
          keys.push_back(cdp::Command{
              "Input.dispatchKeyEvent", {{"type", "keyUp"}, {"key", ch}}, "", timeout_ms, ""});
        }
        send_sequence(page, std::move(keys), 0, done);
      });
}

void press_key(Page& page, const std::string& key, uint64_t timeout_ms, Page::Done done) {
  const KeyDefinition* def = find_key(key);
  KeyDefinition single{};
  std::string single_text;
  if (def == nullptr) {
    if (key.size() != 1) {
      return done(Error{Kind::config,
                        "unknown key '" + key +
                            "' (use a DOM key name such as "
                            "Enter, Tab, ArrowDown, or a single character)",
                        kKeyEvent,
                        {}});
    }
    single_text = key;
    single = KeyDefinition{single_text.c_str(), "", static_cast<int>(std::toupper(key[0])),
                           single_text.c_str()};
    def = &single;
  }
  std::vector<cdp::Command> keys = {key_event("keyDown", *def, timeout_ms, ""),
                                    key_event("keyUp", *def, timeout_ms, "")};
  send_sequence(page, std::move(keys), 0, std::move(done));
}

void inner_text(Page& page, const std::string& selector, uint64_t timeout_ms, Page::Done done) {
  page.call_function(kTextJs, json::array({selector}), timeout_ms, kEvaluate,
                     [selector, done = std::move(done)](Result<json> r) {
                       if (r && r.value().is_null()) {
                         return done(not_found(selector, kEvaluate, ""));
                       }
                       done(std::move(r));
                     });
}

void page_url(Page& page, uint64_t timeout_ms, Page::Done done) {
  page.evaluate("location.href", timeout_ms, kEvaluate, std::move(done));
}

void page_title(Page& page, uint64_t timeout_ms, Page::Done done) {
  page.evaluate("document.title", timeout_ms, kEvaluate, std::move(done));
}

void screenshot(Page& page, const std::string& path, uint64_t timeout_ms, Page::Done done) {
  page.send(cdp::Command{"Page.captureScreenshot", {{"format", "png"}}, "", timeout_ms, ""},
            [path, done = std::move(done)](Result<json> r) {
              if (!r) return done(std::move(r));
              auto bytes = base64_decode(cdp::string_field(r.value(), "data"));
              if (!bytes || bytes->empty()) {
                return done(cdp::protocol_error("screenshot data is not base64", kScreenshot));
              }
              // A few hundred KiB, written once per screenshot: not worth a
              // thread hop. 0600 whatever the umask: a page shows private data.
              if (auto error = write_private_file(path, *bytes)) {
                return done(Error{Kind::script, "screenshot: " + *error, kScreenshot, {}});
              }
              done(json{{"path", path}, {"bytes", bytes->size()}});
            });
}

}  // namespace belay::browser
