// frame:* — a frame of a page (page:frame()): the element calls, the waits,
// evaluate and url, run in the frame's document. Calls name themselves
// page:… in errors, as the page's do: one binding serves both.

#include "api/element_calls.hpp"
#include "api/handles.hpp"
#include "api/options.hpp"
#include "api/page_waits.hpp"
#include "vm/error_value.hpp"

#include <string>
#include <vector>

namespace belay::lua {
namespace {

bool start_url(lua_State* L) {
  browser::ScriptTarget* target = nullptr;
  CallSlot slot;
  uint64_t timeout_ms = 0;
  if (!read_timeout_option(L, 2, "frame:url", Runtime::from(L).hooks().call_timeout_ms,
                           &timeout_ms)) {
    return false;
  }
  if (!begin_target_call(L, "frame:url", &target, &slot)) return false;
  target->evaluate("location.href", timeout_ms, "frame:url", finish_into(slot));
  return true;
}

BELAY_YIELDING_BINDING(url)

int l_tostring(lua_State* L) {
  auto* handle = static_cast<FrameHandle*>(luaL_checkudata(L, 1, kFrameMetatable));
  lua_pushfstring(L, "frame(%s)", handle->frame ? handle->frame->frame_id().c_str() : "?");
  return 1;
}

int l_gc(lua_State* L) {
  static_cast<FrameHandle*>(luaL_checkudata(L, 1, kFrameMetatable))->~FrameHandle();
  return 0;
}

std::vector<luaL_Reg> methods() {
  std::vector<luaL_Reg> out = {{"evaluate", evaluate_binding}, {"url", l_url}};
  add_element_methods(&out);
  add_wait_methods(&out);
  out.push_back({nullptr, nullptr});
  return out;
}

}  // namespace

void register_frame(lua_State* L) {
  static const std::vector<luaL_Reg> kMethods = methods();
  register_handle_type(L, kFrameMetatable, kMethods.data(), l_gc, l_tostring);
}

void push_frame(lua_State* L, std::shared_ptr<browser::Frame> frame,
                const std::shared_ptr<browser::Page>& page,
                const std::shared_ptr<browser::BrowserSession>& session) {
  void* memory = lua_newuserdatauv(L, sizeof(FrameHandle), 0);
  new (memory) FrameHandle{std::move(frame), page, session, session ? session->generation() : 0};
  luaL_setmetatable(L, kFrameMetatable);
}

browser::ScriptTarget* live_target(lua_State* L, int idx, const char* op) {
  auto* handle = static_cast<FrameHandle*>(luaL_testudata(L, idx, kFrameMetatable));
  if (handle == nullptr) return live_page(L, idx, op);
  auto session = handle->session.lock();
  if (!session || !session->connected()) {
    push_error(L, Error{Kind::browser_disconnected, "the frame's browser is gone", op, {}});
    return nullptr;
  }
  if (handle->page.expired() || session->generation() != handle->generation) {
    push_error(L, Error{Kind::target_closed, "the frame's page was closed", op, {}});
    return nullptr;
  }
  return handle->frame.get();
}

bool begin_target_call(lua_State* L, const char* op, browser::ScriptTarget** target,
                       CallSlot* slot) {
  *target = live_target(L, 1, op);
  if (*target == nullptr) return false;
  auto started = Runtime::from(L).begin_call(L, op);
  if (!started) return false;
  *slot = *started;
  return true;
}

}  // namespace belay::lua
