// page:* — every method checks its arguments, begins the call, starts the
// C++ operation and yields; the operation's end resumes the script.

#include "api/handles.hpp"
#include "browser/page_actions.hpp"
#include "vm/error_value.hpp"
#include "vm/json_value.hpp"

#include <algorithm>
#include <cstring>
#include <regex>
#include <string>

namespace belay::lua {
namespace {

constexpr uint64_t kDefaultTimeoutMs = 30000;

// The common prologue: a live page, a timeout from the opts table at
// `opts_idx`, and a call slot. False with an error table pushed otherwise.
struct Prologue {
  browser::Page* page = nullptr;
  uint64_t timeout_ms = kDefaultTimeoutMs;
  CallSlot slot;
};

bool begin_page_call(lua_State* L, const char* op, int opts_idx, Prologue* out) {
  out->page = live_page(L, 1, op);
  if (out->page == nullptr) return false;
  out->timeout_ms = opt_timeout(L, opts_idx, kDefaultTimeoutMs);
  auto slot = Runtime::from(L).begin_call(L, op);
  if (!slot) return false;
  out->slot = *slot;
  return true;
}

std::optional<browser::WaitUntil> opt_wait(lua_State* L, int idx) {
  if (lua_type(L, idx) != LUA_TTABLE) return browser::WaitUntil::load;
  lua_getfield(L, idx, "wait");
  const char* name = lua_tostring(L, -1);
  std::optional<browser::WaitUntil> wait =
      name == nullptr ? std::optional<browser::WaitUntil>(browser::WaitUntil::load)
                      : browser::wait_until_from_name(name);
  lua_pop(L, 1);
  return wait;
}

bool start_navigation(lua_State* L, const char* op, int opts_idx, int history_delta) {
  const char* url = history_delta == 0 && std::strcmp(op, "page:navigate") == 0
                        ? luaL_checkstring(L, 2)
                        : nullptr;
  auto wait = opt_wait(L, opts_idx);
  if (!wait) {
    push_error(L,
               Error{Kind::config, "opts.wait must be \"load\" or \"domcontentloaded\"", op, {}});
    return false;
  }
  Prologue p;
  if (!begin_page_call(L, op, opts_idx, &p)) return false;
  browser::NavigateOptions options{*wait, p.timeout_ms, op};
  if (url != nullptr) {
    p.page->navigate(url, options, finish_into(p.slot));
  } else if (history_delta == 0) {
    p.page->reload(options, finish_into(p.slot));
  } else {
    p.page->go_history(history_delta, options, finish_into(p.slot));
  }
  return true;
}

bool start_url(lua_State* L) {
  Prologue p;
  if (!begin_page_call(L, "page:url", 2, &p)) return false;
  browser::page_url(*p.page, p.timeout_ms, finish_into(p.slot));
  return true;
}

bool start_title(lua_State* L) {
  Prologue p;
  if (!begin_page_call(L, "page:title", 2, &p)) return false;
  browser::page_title(*p.page, p.timeout_ms, finish_into(p.slot));
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

// `function …`, `(a, b) => …`, `x => …`, optionally async: a function
// source to call with the arguments; anything else is an expression.
// Only the head is searched: std::regex recurses once per character, and a
// long source (a 100 KB object literal in parentheses) would overflow the stack.
bool looks_like_function(const char* source, size_t size) {
  static const std::regex function_head(
      R"(^\s*(async\s+)?(function\b|\([^()]*\)\s*=>|[A-Za-z_$][\w$]*\s*=>))");
  constexpr size_t kHeadBytes = 1024;
  return std::regex_search(source, source + std::min(size, kHeadBytes), function_head);
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
  Prologue p;
  if (!begin_page_call(L, "page:evaluate", opts_idx, &p)) return false;
  if (!args.empty() || looks_like_function(source, source_size)) {
    p.page->call_function(source, args, p.timeout_ms, "page:evaluate", finish_into(p.slot));
  } else {
    p.page->evaluate(source, p.timeout_ms, "page:evaluate", finish_into(p.slot));
  }
  return true;
}

bool start_wait_for(lua_State* L) {
  const char* selector = luaL_checkstring(L, 2);
  bool visible = false;
  if (lua_type(L, 3) == LUA_TTABLE) {
    lua_getfield(L, 3, "visible");
    visible = lua_toboolean(L, -1) != 0;
    lua_pop(L, 1);
  }
  Prologue p;
  if (!begin_page_call(L, "page:wait_for", 3, &p)) return false;
  auto stop = browser::wait_for(*p.page, selector, browser::WaitForOptions{visible, p.timeout_ms},
                                finish_into(p.slot));
  Runtime::from(L).on_call_abandoned(p.slot, std::move(stop));
  return true;
}

bool start_exists(lua_State* L) {
  const char* selector = luaL_checkstring(L, 2);
  Prologue p;
  if (!begin_page_call(L, "page:exists", 3, &p)) return false;
  browser::exists(*p.page, selector, p.timeout_ms, finish_into(p.slot));
  return true;
}

bool start_click(lua_State* L) {
  const char* selector = luaL_checkstring(L, 2);
  Prologue p;
  if (!begin_page_call(L, "page:click", 3, &p)) return false;
  browser::click(*p.page, selector, p.timeout_ms, [slot = p.slot](Result<nlohmann::json> r) {
    if (!r) return slot.fail(std::move(r.error()));
    slot.succeed_none();
  });
  return true;
}

bool start_type(lua_State* L) {
  const char* selector = luaL_checkstring(L, 2);
  size_t len = 0;
  const char* text = luaL_checklstring(L, 3, &len);
  Prologue p;
  if (!begin_page_call(L, "page:type", 4, &p)) return false;
  browser::type_text(*p.page, selector, std::string(text, len), p.timeout_ms,
                     [slot = p.slot](Result<nlohmann::json> r) {
                       if (!r) return slot.fail(std::move(r.error()));
                       slot.succeed_none();
                     });
  return true;
}

bool start_press(lua_State* L) {
  const char* key = luaL_checkstring(L, 2);
  Prologue p;
  if (!begin_page_call(L, "page:press", 3, &p)) return false;
  browser::press_key(*p.page, key, p.timeout_ms, [slot = p.slot](Result<nlohmann::json> r) {
    if (!r) return slot.fail(std::move(r.error()));
    slot.succeed_none();
  });
  return true;
}

bool start_text(lua_State* L) {
  const char* selector = luaL_checkstring(L, 2);
  Prologue p;
  if (!begin_page_call(L, "page:text", 3, &p)) return false;
  browser::inner_text(*p.page, selector, p.timeout_ms, finish_into(p.slot));
  return true;
}

bool start_screenshot(lua_State* L) {
  const char* path = luaL_checkstring(L, 2);
  Prologue p;
  if (!begin_page_call(L, "page:screenshot", 3, &p)) return false;
  std::string target = path;
  if (!target.empty() && target[0] != '/') {
    target = Runtime::from(L).hooks().screenshots_dir + "/" + target;
  }
  browser::screenshot(*p.page, target, p.timeout_ms, [slot = p.slot](Result<nlohmann::json> r) {
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
  p.page->send(cdp::Command{method, std::move(params), "", p.timeout_ms, "page:cdp"},
               finish_into(p.slot));
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
BELAY_YIELDING_BINDING(wait_for)
BELAY_YIELDING_BINDING(exists)
BELAY_YIELDING_BINDING(click)
BELAY_YIELDING_BINDING(type)
BELAY_YIELDING_BINDING(press)
BELAY_YIELDING_BINDING(text)
BELAY_YIELDING_BINDING(screenshot)
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

const luaL_Reg kMethods[] = {
    {"navigate", l_navigate}, {"reload", l_reload},
    {"back", l_back},         {"forward", l_forward},
    {"url", l_url},           {"title", l_title},
    {"evaluate", l_evaluate}, {"wait_for", l_wait_for},
    {"exists", l_exists},     {"click", l_click},
    {"type", l_type},         {"press", l_press},
    {"text", l_text},         {"screenshot", l_screenshot},
    {"close", l_close},       {"cdp", l_cdp},
    {nullptr, nullptr},
};

}  // namespace

void register_page(lua_State* L) {
  register_handle_type(L, kPageMetatable, kMethods, l_gc, l_tostring);
}

void push_page(lua_State* L, const std::shared_ptr<browser::Page>& page,
               const std::shared_ptr<browser::BrowserSession>& session) {
  void* memory = lua_newuserdatauv(L, sizeof(PageHandle), 0);
  new (memory) PageHandle{page, session, session ? session->generation() : 0};
  luaL_setmetatable(L, kPageMetatable);
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
