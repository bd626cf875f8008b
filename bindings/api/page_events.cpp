#include "api/page_events.hpp"

#include "api/dialog_object.hpp"
#include "api/event_handlers.hpp"
#include "api/handles.hpp"
#include "api/options.hpp"
#include "browser/page_events.hpp"
#include "core/near_miss.hpp"
#include "vm/error_value.hpp"
#include "vm/json_value.hpp"
#include "vm/runtime.hpp"

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace belay::lua {
namespace {

constexpr const char* kSubscriptionMetatable = "belay.subscription";

}  // namespace

bool check_event_name(lua_State* L, int idx, const char* op, std::string* out) {
  if (lua_type(L, idx) != LUA_TSTRING) {
    push_error(L,
               Error{Kind::script, std::string(op) + ": the event name must be a string", op, {}});
    return false;
  }
  *out = lua_tostring(L, idx);
  if (!browser::is_page_event_name(*out)) {
    std::vector<std::string_view> names;
    std::string list;
    for (const auto& name : browser::page_event_names()) {
      names.emplace_back(name);
      list += (list.empty() ? "" : ", ") + name;
    }
    push_error(L, Error{Kind::config,
                        std::string(op) + ": unknown event '" + *out + "'" +
                            did_you_mean(*out, names) + "; valid: " + list,
                        op,
                        {}});
    return false;
  }
  return true;
}

void push_event_payload(lua_State* L, const std::string& name, const nlohmann::json& payload,
                        const std::shared_ptr<browser::BrowserSession>& session) {
  if (name == "popup" && session) {
    const auto id = payload.find("target_id");
    if (id != payload.end() && id->is_string()) {
      if (auto popup = session->page_by_target(id->get<std::string>())) {
        return push_page(L, popup, session);
      }
    }
  }
  push_json(L, payload);
}

namespace {

struct SubscriptionBox {
  uint64_t id;
};

int l_subscription_tostring(lua_State* L) {
  auto* box = static_cast<SubscriptionBox*>(luaL_checkudata(L, 1, kSubscriptionMetatable));
  EventHandlers* handlers = EventHandlers::find(L);
  const std::string* name = handlers != nullptr ? handlers->name_of(box->id) : nullptr;
  lua_pushfstring(L, "subscription(%s)", name != nullptr ? name->c_str() : "ended");
  return 1;
}

// page:on(name, fn) -> subscription
bool start_on(lua_State* L) {
  const char* op = "page:on";
  std::string name;
  if (!check_event_name(L, 2, op, &name)) return false;
  if (lua_type(L, 3) != LUA_TFUNCTION) {
    push_error(
        L, Error{Kind::script,
                 std::string(op) + ": the handler must be a function, not " + luaL_typename(L, 3),
                 op,
                 {}});
    return false;
  }
  browser::Page* page = live_page(L, 1, op);
  if (page == nullptr) return false;
  Runtime& runtime = Runtime::from(L);
  std::shared_ptr<TaskScope> scope = runtime.scope_of(L);
  if (!scope) {
    push_error(
        L, Error{Kind::script,
                 std::string(op) +
                     " cannot be called here: handlers belong to a task (run, a ladder "
                     "step, the console, or a coroutine one of those resumes), not to a file's top "
                     "level",
                 op,
                 {}});
    return false;
  }
  auto* handle = static_cast<PageHandle*>(lua_touserdata(L, 1));
  EventHandlers& handlers = EventHandlers::of(L);
  lua_settop(L, 3);
  const uint64_t id =
      handlers.add(L, handle->page.lock(), handle->session, name, scope);  // pops the function
  auto* box = static_cast<SubscriptionBox*>(lua_newuserdatauv(L, sizeof(SubscriptionBox), 0));
  box->id = id;
  luaL_setmetatable(L, kSubscriptionMetatable);
  return true;
}

int l_on(lua_State* L) {
  if (!start_on(L)) {
    add_call_site(L);
    return lua_error(L);
  }
  return 1;
}

// page:off(subscription) -> true when it was still on
int l_off(lua_State* L) {
  bool ok = true;
  bool removed = false;
  if (live_page(L, 1, "page:off") == nullptr) {
    lua_pop(L, 1);  // a closed page's handlers can still be ended
  }
  auto* box = static_cast<SubscriptionBox*>(luaL_testudata(L, 2, kSubscriptionMetatable));
  if (box == nullptr) {
    ok = false;
    push_error(L, Error{Kind::script,
                        "page:off: expected a subscription (what page:on returned)",
                        "page:off",
                        {}});
  } else if (EventHandlers* handlers = EventHandlers::find(L)) {
    removed = handlers->remove(box->id);
  }
  if (!ok) {
    add_call_site(L);
    return lua_error(L);
  }
  lua_pushboolean(L, removed ? 1 : 0);
  return 1;
}

}  // namespace

void add_event_methods(std::vector<luaL_Reg>* methods) {
  methods->push_back({"on", l_on});
  methods->push_back({"off", l_off});
  methods->push_back({"expect", l_page_expect});
}

void register_event_types(lua_State* L) {
  register_dialog_type(L);
  register_locked_metatable(L, kSubscriptionMetatable, nullptr, nullptr, l_subscription_tostring);
  register_expect_type(L);
}

void end_all_subscriptions(Runtime& runtime) {
  if (EventHandlers* handlers = EventHandlers::find(runtime.main())) handlers->remove_all();
}

}  // namespace belay::lua
