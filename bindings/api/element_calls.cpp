// page:click(sel, opts) and the other element calls: each checks its
// arguments and options (unknown keys refused), begins the call, starts the
// browser:: action and yields; the action's end resumes the script. A call
// the script abandons (Ctrl-C, an item deadline) stops its action.

#include "api/element_calls.hpp"

#include "api/handles.hpp"
#include "api/options.hpp"
#include "api/script_files.hpp"
#include "browser/element_actions.hpp"
#include "browser/input_events.hpp"
#include "vm/error_value.hpp"

#include <string>
#include <vector>

namespace belay::lua {
namespace {

// A live page and a call slot, once the arguments are known good.
struct PageCall {
  browser::ScriptTarget* page = nullptr;
  CallSlot slot;
};

bool begin(lua_State* L, const char* op, PageCall* out) {
  return begin_target_call(L, op, &out->page, &out->slot);
}

const HostHooks& hooks(lua_State* L) { return Runtime::from(L).hooks(); }

// The action's stop runs when the script abandons the call.
void stop_when_abandoned(lua_State* L, const PageCall& call, browser::StopAction stop) {
  Runtime::from(L).on_call_abandoned(call.slot, std::move(stop));
}

auto finish_none(const CallSlot& slot) {
  return [slot](Result<nlohmann::json> r) {
    if (!r) return slot.fail(std::move(r.error()));
    slot.succeed_none();
  };
}

int modifier_bits(const std::vector<std::string>& names) {
  int bits = 0;
  for (const auto& name : names) bits |= browser::modifier_bit(name);
  return bits;
}

enum class Pointer { click, dblclick, hover };

// click takes every pointer option; dblclick all but count; hover neither
// button nor count.
bool read_pointer_options(lua_State* L, const char* op, Pointer kind, browser::ClickOptions* out) {
  Options o =
      kind == Pointer::click
          ? Options(L, 3, op, {"button", "count", "modifiers", "position", "force", "timeout"})
      : kind == Pointer::dblclick
          ? Options(L, 3, op, {"button", "modifiers", "position", "force", "timeout"})
          : Options(L, 3, op, {"modifiers", "position", "force", "timeout"});
  out->button = o.one_of("button", {"left", "right", "middle"}, "left");
  out->count =
      kind == Pointer::dblclick ? 2 : static_cast<int>(o.number("count", 1, 10, true).value_or(1));
  out->modifiers = modifier_bits(
      o.string_list("modifiers", {"Alt", "Control", "Meta", "Shift", "ControlOrMeta"}));
  out->position = o.point("position");
  out->force = o.boolean("force", false);
  out->timeout_ms = o.timeout(hooks(L).action_timeout_ms);
  return o.ok() || o.push_error();
}

bool start_pointer(lua_State* L, const char* op, Pointer kind) {
  const char* selector = luaL_checkstring(L, 2);
  browser::ClickOptions options;
  if (!read_pointer_options(L, op, kind, &options)) return false;
  PageCall call;
  if (!begin(L, op, &call)) return false;
  auto stop = kind == Pointer::hover
                  ? browser::hover(*call.page, selector, options, finish_none(call.slot))
                  : browser::click(*call.page, selector, options, finish_none(call.slot));
  stop_when_abandoned(L, call, std::move(stop));
  return true;
}

bool start_click(lua_State* L) { return start_pointer(L, "page:click", Pointer::click); }
bool start_dblclick(lua_State* L) { return start_pointer(L, "page:dblclick", Pointer::dblclick); }
bool start_hover(lua_State* L) { return start_pointer(L, "page:hover", Pointer::hover); }
bool start_checked(lua_State* L, const char* op, bool checked) {
  const char* selector = luaL_checkstring(L, 2);
  browser::ClickOptions options;
  {
    Options o(L, 3, op, {"position", "force", "timeout"});
    options.position = o.point("position");
    options.force = o.boolean("force", false);
    options.timeout_ms = o.timeout(hooks(L).action_timeout_ms);
    if (!o.ok()) return o.push_error();
  }
  PageCall call;
  if (!begin(L, op, &call)) return false;
  stop_when_abandoned(
      L, call,
      browser::set_checked(*call.page, selector, checked, options, finish_none(call.slot)));
  return true;
}

bool start_check(lua_State* L) { return start_checked(L, "page:check", true); }
bool start_uncheck(lua_State* L) { return start_checked(L, "page:uncheck", false); }

bool start_filling(lua_State* L, const char* op, bool clear) {
  const char* selector = luaL_checkstring(L, 2);
  size_t len = 0;
  const char* text = clear ? "" : luaL_checklstring(L, 3, &len);
  bool force = false;
  uint64_t timeout_ms = 0;
  {
    Options o(L, clear ? 3 : 4, op, {"force", "timeout"});
    force = o.boolean("force", false);
    timeout_ms = o.timeout(hooks(L).action_timeout_ms);
    if (!o.ok()) return o.push_error();
  }
  PageCall call;
  if (!begin(L, op, &call)) return false;
  stop_when_abandoned(L, call,
                      browser::fill(*call.page, selector, std::string(text, len), force, timeout_ms,
                                    finish_none(call.slot)));
  return true;
}

bool start_fill(lua_State* L) { return start_filling(L, "page:fill", false); }
bool start_clear(lua_State* L) { return start_filling(L, "page:clear", true); }

bool start_type(lua_State* L) {
  const char* selector = luaL_checkstring(L, 2);
  size_t len = 0;
  const char* text = luaL_checklstring(L, 3, &len);
  uint64_t delay_ms = 0;
  uint64_t timeout_ms = 0;
  {
    Options o(L, 4, "page:type", {"delay", "timeout"});
    delay_ms = static_cast<uint64_t>(o.number("delay", 0, 60000, false).value_or(0));
    timeout_ms = o.timeout(hooks(L).action_timeout_ms);
    if (!o.ok()) return o.push_error();
  }
  PageCall call;
  if (!begin(L, "page:type", &call)) return false;
  stop_when_abandoned(L, call,
                      browser::type_text(*call.page, selector, std::string(text, len), delay_ms,
                                         timeout_ms, finish_none(call.slot)));
  return true;
}

bool start_press(lua_State* L) {
  const char* keys = luaL_checkstring(L, 2);
  uint64_t timeout_ms = 0;
  if (!read_timeout_option(L, 3, "page:press", hooks(L).action_timeout_ms, &timeout_ms)) {
    return false;
  }
  PageCall call;
  if (!begin(L, "page:press", &call)) return false;
  browser::press_keys(*call.page, keys, timeout_ms, finish_none(call.slot));
  return true;
}

bool start_focus(lua_State* L) {
  const char* selector = luaL_checkstring(L, 2);
  uint64_t timeout_ms = 0;
  if (!read_timeout_option(L, 3, "page:focus", hooks(L).action_timeout_ms, &timeout_ms)) {
    return false;
  }
  PageCall call;
  if (!begin(L, "page:focus", &call)) return false;
  stop_when_abandoned(L, call,
                      browser::focus(*call.page, selector, timeout_ms, finish_none(call.slot)));
  return true;
}

// A string or a list of strings at `idx` (select's values, upload's paths);
// false with a `script` error pushed for anything else.
bool read_strings(lua_State* L, int idx, const char* op, const char* what,
                  std::vector<std::string>* out) {
  if (lua_type(L, idx) == LUA_TSTRING) {
    out->emplace_back(lua_tostring(L, idx));
    return true;
  }
  if (lua_type(L, idx) != LUA_TTABLE) {
    push_error(L, Error{Kind::script,
                        std::string(op) + ": the " + what +
                            " must be a string or a list of strings, got " + luaL_typename(L, idx),
                        op,
                        {}});
    return false;
  }
  const lua_Integer n = static_cast<lua_Integer>(lua_rawlen(L, idx));
  for (lua_Integer i = 1; i <= n; ++i) {
    if (lua_rawgeti(L, idx, i) != LUA_TSTRING) {
      lua_pop(L, 1);
      push_error(
          L, Error{Kind::script,
                   std::string(op) + ": " + what + " " + std::to_string(i) + " must be a string",
                   op,
                   {}});
      return false;
    }
    out->emplace_back(lua_tostring(L, -1));
    lua_pop(L, 1);
  }
  return true;
}

bool start_select(lua_State* L) {
  const char* selector = luaL_checkstring(L, 2);
  std::vector<std::string> values;
  if (!read_strings(L, 3, "page:select", "value", &values)) return false;
  uint64_t timeout_ms = 0;
  if (!read_timeout_option(L, 4, "page:select", hooks(L).action_timeout_ms, &timeout_ms)) {
    return false;
  }
  PageCall call;
  if (!begin(L, "page:select", &call)) return false;
  stop_when_abandoned(
      L, call,
      browser::select_options(*call.page, selector, values, timeout_ms, finish_into(call.slot)));
  return true;
}

bool start_upload(lua_State* L) {
  const char* selector = luaL_checkstring(L, 2);
  std::vector<std::string> wanted;
  if (!read_strings(L, 3, "page:upload", "path", &wanted)) return false;
  uint64_t timeout_ms = 0;
  if (!read_timeout_option(L, 4, "page:upload", hooks(L).action_timeout_ms, &timeout_ms)) {
    return false;
  }
  // Every path is checked before anything is sent: files are never read
  // into Lua, only named to Chromium.
  std::vector<std::string> paths;
  for (const auto& path : wanted) {
    auto allowed = upload_path(hooks(L), path, "page:upload");
    if (!allowed) {
      push_error(L, allowed.error());
      return false;
    }
    paths.push_back(std::move(allowed.value()));
  }
  PageCall call;
  if (!begin(L, "page:upload", &call)) return false;
  stop_when_abandoned(
      L, call,
      browser::upload_files(*call.page, selector, paths, timeout_ms, finish_none(call.slot)));
  return true;
}

bool start_read(lua_State* L, const char* op, browser::ElementRead what) {
  const char* selector = luaL_checkstring(L, 2);
  const char* attribute = what == browser::ElementRead::attr ? luaL_checkstring(L, 3) : "";
  uint64_t timeout_ms = 0;
  if (!read_timeout_option(L, what == browser::ElementRead::attr ? 4 : 3, op,
                           hooks(L).action_timeout_ms, &timeout_ms)) {
    return false;
  }
  PageCall call;
  if (!begin(L, op, &call)) return false;
  stop_when_abandoned(L, call,
                      browser::read_element(*call.page, selector, what, attribute, timeout_ms,
                                            finish_into(call.slot)));
  return true;
}

bool start_text(lua_State* L) { return start_read(L, "page:text", browser::ElementRead::text); }
bool start_attr(lua_State* L) { return start_read(L, "page:attr", browser::ElementRead::attr); }
bool start_value(lua_State* L) { return start_read(L, "page:value", browser::ElementRead::value); }
bool start_is_checked(lua_State* L) {
  return start_read(L, "page:is_checked", browser::ElementRead::checked);
}

// page:html() is the document; page:html(sel) one element's outerHTML.
bool start_html(lua_State* L) {
  const bool whole = lua_isnoneornil(L, 2) || lua_type(L, 2) == LUA_TTABLE;
  if (!whole) return start_read(L, "page:html", browser::ElementRead::html);
  uint64_t timeout_ms = 0;
  if (!read_timeout_option(L, lua_type(L, 2) == LUA_TTABLE ? 2 : 3, "page:html",
                           hooks(L).call_timeout_ms, &timeout_ms)) {
    return false;
  }
  PageCall call;
  if (!begin(L, "page:html", &call)) return false;
  browser::document_html(*call.page, timeout_ms, finish_into(call.slot));
  return true;
}

bool start_query(lua_State* L, const char* op, const char* what) {
  const char* selector = luaL_checkstring(L, 2);
  uint64_t timeout_ms = 0;
  if (!read_timeout_option(L, 3, op, hooks(L).call_timeout_ms, &timeout_ms)) {
    return false;
  }
  PageCall call;
  if (!begin(L, op, &call)) return false;
  browser::query_elements(*call.page, selector, what, timeout_ms, finish_into(call.slot));
  return true;
}

bool start_count(lua_State* L) { return start_query(L, "page:count", "count"); }
bool start_exists(lua_State* L) { return start_query(L, "page:exists", "exists"); }
bool start_texts(lua_State* L) { return start_query(L, "page:texts", "texts"); }
bool start_is_visible(lua_State* L) { return start_query(L, "page:is_visible", "visible"); }

bool start_wait_for(lua_State* L) {
  const char* selector = luaL_checkstring(L, 2);
  browser::WaitForOptions options;
  {
    Options o(L, 3, "page:wait_for", {"visible", "hidden", "timeout"});
    const bool visible = o.boolean("visible", false);
    const bool hidden = o.boolean("hidden", false);
    options.timeout_ms = o.timeout(hooks(L).action_timeout_ms);
    if (o.ok() && visible && hidden) {
      push_error(L, Error{Kind::config,
                          "options for page:wait_for: visible and hidden exclude each other",
                          "page:wait_for",
                          {}});
      return false;
    }
    if (!o.ok()) return o.push_error();
    options.state = visible  ? browser::ElementState::visible
                    : hidden ? browser::ElementState::hidden
                             : browser::ElementState::attached;
  }
  PageCall call;
  if (!begin(L, "page:wait_for", &call)) return false;
  stop_when_abandoned(L, call,
                      browser::wait_for(*call.page, selector, options, finish_into(call.slot)));
  return true;
}

BELAY_YIELDING_BINDING(click)
BELAY_YIELDING_BINDING(dblclick)
BELAY_YIELDING_BINDING(hover)
BELAY_YIELDING_BINDING(check)
BELAY_YIELDING_BINDING(uncheck)
BELAY_YIELDING_BINDING(fill)
BELAY_YIELDING_BINDING(clear)
BELAY_YIELDING_BINDING(type)
BELAY_YIELDING_BINDING(press)
BELAY_YIELDING_BINDING(focus)
BELAY_YIELDING_BINDING(select)
BELAY_YIELDING_BINDING(upload)
BELAY_YIELDING_BINDING(text)
BELAY_YIELDING_BINDING(attr)
BELAY_YIELDING_BINDING(value)
BELAY_YIELDING_BINDING(is_checked)
BELAY_YIELDING_BINDING(html)
BELAY_YIELDING_BINDING(count)
BELAY_YIELDING_BINDING(exists)
BELAY_YIELDING_BINDING(texts)
BELAY_YIELDING_BINDING(is_visible)
BELAY_YIELDING_BINDING(wait_for)

}  // namespace

void add_element_methods(std::vector<luaL_Reg>* methods) {
  methods->insert(methods->end(), {
                                      {"click", l_click},
                                      {"dblclick", l_dblclick},
                                      {"hover", l_hover},
                                      {"check", l_check},
                                      {"uncheck", l_uncheck},
                                      {"fill", l_fill},
                                      {"clear", l_clear},
                                      {"type", l_type},
                                      {"press", l_press},
                                      {"focus", l_focus},
                                      {"select", l_select},
                                      {"upload", l_upload},
                                      {"text", l_text},
                                      {"attr", l_attr},
                                      {"value", l_value},
                                      {"is_checked", l_is_checked},
                                      {"html", l_html},
                                      {"count", l_count},
                                      {"exists", l_exists},
                                      {"texts", l_texts},
                                      {"is_visible", l_is_visible},
                                      {"wait_for", l_wait_for},
                                  });
}

}  // namespace belay::lua
