// page:* — every method checks its arguments and options (unknown keys
// refused), begins the call, starts the C++ operation and yields; the
// operation's end resumes the script. Element calls are element_calls.cpp.

#include "api/element_calls.hpp"
#include "api/handles.hpp"
#include "api/options.hpp"
#include "api/page_events.hpp"
#include "api/page_routes.hpp"
#include "api/page_settings.hpp"
#include "api/page_waits.hpp"
#include "api/script_files.hpp"
#include "browser/page_actions.hpp"
#include "cdp/reply_fields.hpp"
#include "vm/error_value.hpp"
#include "vm/json_value.hpp"

#include <algorithm>
#include <cstring>
#include <string>

namespace belay::lua {
namespace {

// The common prologue: a live page, the timeout from the opts table at
// `opts_idx` (which may hold only `timeout`), and a call slot. False with an
// error table pushed otherwise.
struct Prologue {
  browser::Page* page = nullptr;
  uint64_t timeout_ms = 0;
  CallSlot slot;
};

bool begin_page_call_with(lua_State* L, const char* op, Prologue* out) {
  return begin_page_call(L, op, &out->page, &out->slot);
}

bool begin_page_call(lua_State* L, const char* op, int opts_idx, Prologue* out) {
  if (!read_timeout_option(L, opts_idx, op, Runtime::from(L).hooks().call_timeout_ms,
                           &out->timeout_ms)) {
    return false;
  }
  return begin_page_call_with(L, op, out);
}

bool start_navigation(lua_State* L, const char* op, int opts_idx, int history_delta) {
  const char* url = history_delta == 0 && std::strcmp(op, "page:navigate") == 0
                        ? luaL_checkstring(L, 2)
                        : nullptr;
  Prologue p;
  browser::WaitUntil wait = browser::WaitUntil::load;
  {
    Options o(L, opts_idx, op, {"wait", "timeout"});
    wait = *browser::wait_until_from_name(
        o.one_of("wait", {"load", "domcontentloaded", "networkidle", "commit"}, "load"));
    p.timeout_ms = o.timeout(Runtime::from(L).hooks().navigation_timeout_ms);
    if (!o.ok()) return o.push_error();
  }
  if (!begin_page_call_with(L, op, &p)) return false;
  browser::NavigateOptions options{wait, p.timeout_ms, op};
  if (url != nullptr) {
    p.page->navigate(url, options, finish_into(p.slot));
  } else if (history_delta == 0) {
    p.page->reload(options, finish_into(p.slot));
  } else {
    p.page->go_history(history_delta, options, finish_into(p.slot));
  }
  return true;
}

// Runs `start`, which sends the call's commands; a cancelled call
// (belay.all's siblings, a deadline, Ctrl-C) drops them, so the page's late
// answer finds nothing waiting on the connection.
void start_dropped_when_cancelled(lua_State* L, browser::ScriptTarget& target, const CallSlot& slot,
                                  const std::function<void()>& start) {
  auto cancel = target.cancellable(start);
  Runtime::from(L).on_call_abandoned(slot, [cancel = std::move(cancel)] {
    cancel(Error{Kind::cancelled, "the script's call was cancelled", "", {}});
  });
}

bool start_url(lua_State* L) {
  Prologue p;
  if (!begin_page_call(L, "page:url", 2, &p)) return false;
  start_dropped_when_cancelled(
      L, *p.page, p.slot, [&] { browser::page_url(*p.page, p.timeout_ms, finish_into(p.slot)); });
  return true;
}

bool start_title(lua_State* L) {
  Prologue p;
  if (!begin_page_call(L, "page:title", 2, &p)) return false;
  start_dropped_when_cancelled(
      L, *p.page, p.slot, [&] { browser::page_title(*p.page, p.timeout_ms, finish_into(p.slot)); });
  return true;
}

// A trailing table is the opts table when its only key is `timeout`; any
// other table is an argument for the function.
bool is_opts_table(lua_State* L, int idx) {
  if (lua_type(L, idx) != LUA_TTABLE) return false;
  bool only_timeout = false;
  lua_pushnil(L);
  while (lua_next(L, idx) != 0) {
    lua_pop(L, 1);
    if (lua_type(L, -1) != LUA_TSTRING || std::strcmp(lua_tostring(L, -1), "timeout") != 0) {
      lua_pop(L, 1);
      return false;
    }
    only_timeout = true;
  }
  return only_timeout;
}

bool start_evaluate(lua_State* L) {
  size_t source_size = 0;
  const char* source = luaL_checklstring(L, 2, &source_size);
  int last = lua_gettop(L);
  int opts_idx = 0;
  if (last >= 3 && is_opts_table(L, last)) opts_idx = last--;
  nlohmann::json args = nlohmann::json::array();
  for (int i = 3; i <= last; ++i) {
    Result<nlohmann::json> arg = to_json(L, i);
    if (!arg) {
      Error e = arg.error();
      e.op = "page:evaluate";
      e.message = "argument " + std::to_string(i - 2) + ": " + e.message;
      push_error(L, e);
      return false;
    }
    args.push_back(std::move(arg.value()));
  }
  uint64_t timeout_ms = 0;
  if (!read_timeout_option(L, opts_idx, "page:evaluate", Runtime::from(L).hooks().call_timeout_ms,
                           &timeout_ms)) {
    return false;
  }
  browser::ScriptTarget* target = nullptr;
  CallSlot slot;
  if (!begin_target_call(L, "page:evaluate", &target, &slot)) return false;
  start_dropped_when_cancelled(L, *target, slot, [&] {
    if (!args.empty() || looks_like_function(source, source_size)) {
      target->call_function(source, args, timeout_ms, "page:evaluate", finish_into(slot));
    } else {
      target->evaluate(source, timeout_ms, "page:evaluate", finish_into(slot));
    }
  });
  return true;
}

// page:frames() → {{name=, url=}, …}, the main frame first.
bool start_frames(lua_State* L) {
  Prologue p;
  if (!begin_page_call(L, "page:frames", 2, &p)) return false;
  browser::Page* page = p.page;
  page->frames().start(p.timeout_ms, [page, alive = page->lifetime(), slot = p.slot,
                                      timeout_ms = p.timeout_ms](std::optional<Error> error) {
    if (error) return slot.fail(std::move(*error));
    if (alive.expired())
      return slot.fail(Error{Kind::target_closed, "the page was closed", "", {}});
    page->frames().list(timeout_ms, [slot](Result<nlohmann::json> r) {
      if (!r) return slot.fail(std::move(r.error()));
      nlohmann::json out = nlohmann::json::array();
      for (const auto& f : r.value()) out.push_back({{"name", f["name"]}, {"url", f["url"]}});
      slot.succeed_json(std::move(out));
    });
  });
  return true;
}

// page:frame(name_or_glob_or_selector, {timeout}) → a frame, once it has a
// document (action timeout).
bool start_frame(lua_State* L) {
  const char* query = luaL_checkstring(L, 2);
  uint64_t timeout_ms = 0;
  if (!read_timeout_option(L, 3, "page:frame", Runtime::from(L).hooks().action_timeout_ms,
                           &timeout_ms)) {
    return false;
  }
  Prologue p;
  if (!begin_page_call_with(L, "page:frame", &p)) return false;
  auto* handle = static_cast<PageHandle*>(luaL_checkudata(L, 1, kPageMetatable));
  std::weak_ptr<browser::Page> weak_page = handle->page;
  std::weak_ptr<browser::BrowserSession> weak_session = handle->session;
  Runtime::from(L).on_call_abandoned(
      p.slot, browser::find_frame(
                  *p.page, query, timeout_ms,
                  [slot = p.slot, weak_page, weak_session](Result<nlohmann::json> r) {
                    if (!r) return slot.fail(std::move(r.error()));
                    auto page = weak_page.lock();
                    if (!page) {
                      return slot.fail(Error{Kind::target_closed, "the page was closed", "", {}});
                    }
                    auto frame =
                        std::make_shared<browser::Frame>(*page, cdp::string_field(r.value(), "id"));
                    slot.succeed([frame, page, weak_session](lua_State* S) {
                      push_frame(S, frame, page, weak_session.lock());
                      return 1;
                    });
                  }));
  return true;
}

bool start_screenshot(lua_State* L) {
  const char* path = luaL_checkstring(L, 2);
  browser::ScreenshotOptions options;
  {
    Options o(L, 3, "page:screenshot", {"full_page", "selector", "format", "quality", "timeout"});
    options.full_page = o.boolean("full_page", false);
    options.selector = o.string("selector").value_or("");
    options.format = o.one_of("format", {"png", "jpeg"}, "png");
    auto quality = o.number("quality", 0, 100, true);
    options.quality = quality ? static_cast<int>(*quality) : -1;
    options.timeout_ms = o.timeout(Runtime::from(L).hooks().call_timeout_ms);
    if (!o.ok()) return o.push_error();
    if (quality && options.format != "jpeg") {
      push_error(L, Error{Kind::config,
                          "option 'quality' for page:screenshot needs format = \"jpeg\"",
                          "page:screenshot",
                          {}});
      return false;
    }
    if (options.full_page && !options.selector.empty()) {
      push_error(L, Error{Kind::config,
                          "options for page:screenshot: full_page and selector exclude each other",
                          "page:screenshot",
                          {}});
      return false;
    }
  }
  auto target = capture_path(Runtime::from(L).hooks(), path, "screenshots", "page:screenshot");
  if (!target) {
    push_error(L, target.error());
    return false;
  }
  Prologue p;
  if (!begin_page_call_with(L, "page:screenshot", &p)) return false;
  browser::screenshot(*p.page, target.value(), options, [slot = p.slot](Result<nlohmann::json> r) {
    if (!r) return slot.fail(std::move(r.error()));
    slot.succeed_json(r.value()["path"]);
  });
  return true;
}

bool start_pdf(lua_State* L) {
  const char* path = luaL_checkstring(L, 2);
  browser::PdfOptions options;
  {
    Options o(L, 3, "page:pdf", {"landscape", "format", "timeout"});
    options.landscape = o.boolean("landscape", false);
    options.format =
        o.one_of("format",
                 {"Letter", "Legal", "Tabloid", "Ledger", "A0", "A1", "A2", "A3", "A4", "A5", "A6"},
                 "Letter");
    options.timeout_ms = o.timeout(Runtime::from(L).hooks().call_timeout_ms);
    if (!o.ok()) return o.push_error();
  }
  auto target = capture_path(Runtime::from(L).hooks(), path, "pdf", "page:pdf");
  if (!target) {
    push_error(L, target.error());
    return false;
  }
  Prologue p;
  if (!begin_page_call_with(L, "page:pdf", &p)) return false;
  browser::pdf(*p.page, target.value(), options, [slot = p.slot](Result<nlohmann::json> r) {
    if (!r) return slot.fail(std::move(r.error()));
    slot.succeed_json(r.value()["path"]);
  });
  return true;
}

bool start_close(lua_State* L) {
  Prologue p;
  if (!begin_page_call(L, "page:close", 2, &p)) return false;
  auto* handle = static_cast<PageHandle*>(luaL_checkudata(L, 1, kPageMetatable));
  std::weak_ptr<browser::BrowserSession> session = handle->session;
  browser::Page* page = p.page;
  page->close(p.timeout_ms, [slot = p.slot, session, page](Result<nlohmann::json> r) {
    if (!r) return slot.fail(std::move(r.error()));
    if (auto s = session.lock()) s->forget_page(page);
    slot.succeed_none();
  });
  return true;
}

bool start_cdp(lua_State* L) {
  const char* method = luaL_checkstring(L, 2);
  nlohmann::json params;
  if (!cdp_params(L, 3, "page:cdp", &params)) return false;
  Prologue p;
  if (!begin_page_call(L, "page:cdp", 4, &p)) return false;
  start_dropped_when_cancelled(L, *p.page, p.slot, [&] {
    p.page->send(cdp::Command{method, std::move(params), "", p.timeout_ms, "page:cdp"},
                 finish_into(p.slot));
  });
  return true;
}

bool start_navigate(lua_State* L) {
  luaL_checkstring(L, 2);
  return start_navigation(L, "page:navigate", 3, 0);
}
bool start_reload(lua_State* L) { return start_navigation(L, "page:reload", 2, 0); }
bool start_back(lua_State* L) { return start_navigation(L, "page:back", 2, -1); }
bool start_forward(lua_State* L) { return start_navigation(L, "page:forward", 2, 1); }

BELAY_YIELDING_BINDING(navigate)
BELAY_YIELDING_BINDING(reload)
BELAY_YIELDING_BINDING(back)
BELAY_YIELDING_BINDING(forward)
BELAY_YIELDING_BINDING(url)
BELAY_YIELDING_BINDING(title)
BELAY_YIELDING_BINDING(evaluate)
BELAY_YIELDING_BINDING(frames)
BELAY_YIELDING_BINDING(frame)
BELAY_YIELDING_BINDING(screenshot)
BELAY_YIELDING_BINDING(pdf)
BELAY_YIELDING_BINDING(close)
BELAY_YIELDING_BINDING(cdp)

int l_tostring(lua_State* L) {
  auto* handle = static_cast<PageHandle*>(luaL_checkudata(L, 1, kPageMetatable));
  auto page = handle->page.lock();
  lua_pushfstring(L, "page(%s)", page ? page->target_id().c_str() : "closed");
  return 1;
}

int l_gc(lua_State* L) {
  static_cast<PageHandle*>(luaL_checkudata(L, 1, kPageMetatable))->~PageHandle();
  return 0;
}

// page:keep(): this page outlives the item it was opened in (a popup is
// closed with its item otherwise; other pages outlive it anyway).
int l_keep(lua_State* L) {
  browser::Page* page = live_page(L, 1, "page:keep");
  if (page == nullptr) {
    add_call_site(L);
    return lua_error(L);
  }
  page->keep();
  return 0;
}

std::vector<luaL_Reg> methods() {
  std::vector<luaL_Reg> out = {
      {"navigate", l_navigate}, {"reload", l_reload},
      {"back", l_back},         {"forward", l_forward},
      {"url", l_url},           {"title", l_title},
      {"evaluate", l_evaluate}, {"screenshot", l_screenshot},
      {"pdf", l_pdf},           {"frames", l_frames},
      {"frame", l_frame},       {"close", l_close},
      {"cdp", l_cdp},           {"keep", l_keep},
  };
  add_element_methods(&out);
  add_wait_methods(&out);
  add_event_methods(&out);
  add_settings_methods(&out);
  add_route_methods(&out);
  out.push_back({nullptr, nullptr});
  return out;
}

}  // namespace

void register_page(lua_State* L) {
  static const std::vector<luaL_Reg> kMethods = methods();
  register_handle_type(L, kPageMetatable, kMethods.data(), l_gc, l_tostring);
  register_event_types(L);
  register_route_types(L);
  register_frame(L);
}

void push_page(lua_State* L, const std::shared_ptr<browser::Page>& page,
               const std::shared_ptr<browser::BrowserSession>& session) {
  void* memory = lua_newuserdatauv(L, sizeof(PageHandle), 0);
  new (memory) PageHandle{page, session, session ? session->generation() : 0};
  luaL_setmetatable(L, kPageMetatable);
}

int evaluate_binding(lua_State* L) { return l_evaluate(L); }

bool begin_page_call(lua_State* L, const char* op, browser::Page** page, CallSlot* slot) {
  *page = live_page(L, 1, op);
  if (*page == nullptr) return false;
  auto started = Runtime::from(L).begin_call(L, op);
  if (!started) return false;
  *slot = *started;
  return true;
}

browser::Page* live_page(lua_State* L, int idx, const char* op) {
  auto* handle = static_cast<PageHandle*>(luaL_testudata(L, idx, kPageMetatable));
  if (handle == nullptr) {
    push_error(
        L, Error{Kind::script, std::string(op) + ": expected a page (use page:method())", op, {}});
    return nullptr;
  }
  auto session = handle->session.lock();
  if (!session || !session->connected()) {
    push_error(L, Error{Kind::browser_disconnected, "the page's browser is gone", op, {}});
    return nullptr;
  }
  auto page = handle->page.lock();
  if (!page || session->generation() != handle->generation) {
    push_error(L, Error{Kind::target_closed, "the page was closed", op, {}});
    return nullptr;
  }
  return page.get();  // kept alive by the session until it forgets the page
}

}  // namespace belay::lua
