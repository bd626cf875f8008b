#pragma once
// The userdata behind `page` and `browser` in Lua. They hold weak references:
// a page that closed, or a browser that restarted, answers target_closed /
// browser_disconnected instead of reaching freed memory.

#include "browser/browser_session.hpp"
#include "browser/frame.hpp"
#include "vm/runtime.hpp"

#include <lua.hpp>

#include <memory>

namespace belay::lua {

inline constexpr const char* kPageMetatable = "belay.page";
inline constexpr const char* kBrowserMetatable = "belay.browser";
inline constexpr const char* kFrameMetatable = "belay.frame";

struct PageHandle {
  std::weak_ptr<browser::Page> page;
  std::weak_ptr<browser::BrowserSession> session;
  uint64_t generation = 0;
};

// A frame of a page (page:frame()): it owns its browser::Frame, which
// checks its page on every call.
struct FrameHandle {
  std::shared_ptr<browser::Frame> frame;
  std::weak_ptr<browser::Page> page;
  std::weak_ptr<browser::BrowserSession> session;
  uint64_t generation = 0;
};

struct BrowserHandle {
  std::weak_ptr<browser::BrowserSession> session;
};

// Creates a locked metatable with the given metamethods (nullptr: none),
// for a userdata type whose __index is a function of its own.
void register_locked_metatable(lua_State* L, const char* metatable, lua_CFunction index,
                               lua_CFunction gc, lua_CFunction tostring);
// Creates a userdata type's locked metatable with its methods.
void register_handle_type(lua_State* L, const char* metatable, const luaL_Reg* methods,
                          lua_CFunction gc, lua_CFunction tostring);
// Registers the page type and the frame type (page:frame() makes frames).
void register_page(lua_State* L);
void register_frame(lua_State* L);
void register_browser(lua_State* L);
void push_page(lua_State* L, const std::shared_ptr<browser::Page>& page,
               const std::shared_ptr<browser::BrowserSession>& session);
void push_browser(lua_State* L, const std::shared_ptr<browser::BrowserSession>& session);

// The live page behind argument `idx`, or nullptr with an error table pushed.
browser::Page* live_page(lua_State* L, int idx, const char* op);

// The live page behind argument 1 and a call slot for `op`: what every
// page:* call needs once its arguments are known good. False with an error
// table pushed otherwise.
bool begin_page_call(lua_State* L, const char* op, browser::Page** page, CallSlot* slot);

// The same for calls a frame has too (element calls, waits, evaluate):
// argument 1 is a page or a frame.
browser::ScriptTarget* live_target(lua_State* L, int idx, const char* op);
bool begin_target_call(lua_State* L, const char* op, browser::ScriptTarget** target,
                       CallSlot* slot);

// page:evaluate / frame:evaluate: one binding for both.
int evaluate_binding(lua_State* L);

// A frame's userdata for a found frame.
void push_frame(lua_State* L, std::shared_ptr<browser::Frame> frame,
                const std::shared_ptr<browser::Page>& page,
                const std::shared_ptr<browser::BrowserSession>& session);

// The optional params table of page:cdp / browser:cdp at `idx` as a JSON
// object; false with an error table pushed when it is not one.
bool cdp_params(lua_State* L, int idx, const char* op, nlohmann::json* out);

// `function …`, `(a, b) => …`, `x => …`, optionally async: a function
// source to call with arguments; anything else is an expression.
bool looks_like_function(const char* source, size_t size);

// A finished C++ operation's Result completes the Lua call.
inline auto finish_into(const CallSlot& slot) {
  return [slot](Result<nlohmann::json> r) { slot.finish(std::move(r)); };
}

}  // namespace belay::lua
