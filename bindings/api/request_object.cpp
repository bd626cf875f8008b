// The request object of page:route's handlers. Its answers are sent at once
// and do not wait: the browser goes on with the request while the handler
// goes on with its own work. A second answer is a `script` error; the
// first stands.

#include "api/request_object.hpp"

#include "api/handles.hpp"
#include "api/options.hpp"
#include "vm/error_value.hpp"
#include "vm/json_value.hpp"

#include <string>

namespace belay::lua {
namespace {

constexpr const char* kRequestMetatable = "belay.request";

struct RequestBox {
  std::shared_ptr<browser::PausedRequest> request;
};

RequestBox* check_request(lua_State* L, const char* op) {
  auto* box = static_cast<RequestBox*>(luaL_testudata(L, 1, kRequestMetatable));
  if (box == nullptr) {
    push_error(L, Error{Kind::script,
                        std::string(op) +
                            ": expected a request (use req:" + std::string(op).substr(4) + "(...))",
                        op,
                        {}});
    add_call_site(L);
  }
  return box;
}

// Pushes the error for a request answered twice.
void push_decided_twice(lua_State* L, const char* op) {
  push_error(L, Error{Kind::script,
                      std::string(op) + ": the request was answered already (a route decides once)",
                      op,
                      {}});
  add_call_site(L);
}

// Each answer: false with an error table pushed, which the caller raises
// once this frame's C++ objects are gone.
bool answer_continue(lua_State* L) {
  const char* op = "req:continue";
  RequestBox* box = check_request(L, op);
  if (box == nullptr) return false;
  Options o(L, lua_isnoneornil(L, 2) ? 0 : 2, op, {"url", "method", "headers", "post_data"});
  browser::RequestOverrides overrides;
  overrides.url = o.string("url");
  overrides.method = o.string("method");
  overrides.headers = o.string_map("headers");
  overrides.post_data = o.string("post_data");
  if (!o.ok()) return o.push_error();
  if (!box->request->continue_request(overrides)) {
    push_decided_twice(L, op);
    return false;
  }
  return true;
}

bool answer_fulfill(lua_State* L) {
  const char* op = "req:fulfill";
  RequestBox* box = check_request(L, op);
  if (box == nullptr) return false;
  Options o(L, lua_isnoneornil(L, 2) ? 0 : 2, op, {"status", "headers", "body"});
  browser::Fulfillment response;
  response.status = static_cast<int>(o.number("status", 100, 599, true).value_or(200));
  response.headers = o.string_map("headers").value_or(nlohmann::json::object());
  response.body = o.string("body").value_or("");
  if (!o.ok()) return o.push_error();
  if (!box->request->fulfill(response)) {
    push_decided_twice(L, op);
    return false;
  }
  return true;
}

bool answer_abort(lua_State* L) {
  const char* op = "req:abort";
  RequestBox* box = check_request(L, op);
  if (box == nullptr) return false;
  const std::string name = luaL_optstring(L, 2, "failed");
  auto reason = browser::abort_reason_from_name(name);
  if (!reason) {
    std::string valid;
    for (const auto& known : browser::abort_reason_names()) {
      valid += (valid.empty() ? "" : ", ") + known;
    }
    push_error(L, Error{Kind::config,
                        std::string(op) + ": unknown reason '" + name + "'; valid: " + valid,
                        op,
                        {}});
    add_call_site(L);
    return false;
  }
  if (!box->request->abort(*reason)) {
    push_decided_twice(L, op);
    return false;
  }
  return true;
}

int l_continue(lua_State* L) { return answer_continue(L) ? 0 : lua_error(L); }
int l_fulfill(lua_State* L) { return answer_fulfill(L) ? 0 : lua_error(L); }
int l_abort(lua_State* L) { return answer_abort(L) ? 0 : lua_error(L); }

void push_string(lua_State* L, const std::string& text) {
  lua_pushlstring(L, text.data(), text.size());
}

int l_request_index(lua_State* L) {
  auto* box = static_cast<RequestBox*>(luaL_checkudata(L, 1, kRequestMetatable));
  const char* key = luaL_checkstring(L, 2);
  const browser::RequestInfo& info = box->request->info();
  const std::string_view k = key;
  if (k == "url") {
    push_string(L, info.url);
  } else if (k == "method") {
    push_string(L, info.method);
  } else if (k == "headers") {
    push_json(L, info.headers);
  } else if (k == "post_data") {
    if (info.post_data) {
      push_string(L, *info.post_data);
    } else {
      lua_pushnil(L);
    }
  } else if (k == "resource_type") {
    push_string(L, info.resource_type);
  } else if (k == "decided") {
    lua_pushboolean(L, box->request->decided() ? 1 : 0);
  } else if (k == "continue") {
    lua_pushcfunction(L, l_continue);
  } else if (k == "fulfill") {
    lua_pushcfunction(L, l_fulfill);
  } else if (k == "abort") {
    lua_pushcfunction(L, l_abort);
  } else {
    lua_pushnil(L);
  }
  return 1;
}

int l_request_tostring(lua_State* L) {
  auto* box = static_cast<RequestBox*>(luaL_checkudata(L, 1, kRequestMetatable));
  const browser::RequestInfo& info = box->request->info();
  lua_pushfstring(L, "request(%s %s)", info.method.c_str(), info.url.c_str());
  return 1;
}

int l_request_gc(lua_State* L) {
  static_cast<RequestBox*>(luaL_checkudata(L, 1, kRequestMetatable))->~RequestBox();
  return 0;
}

}  // namespace

void push_request(lua_State* L, const std::shared_ptr<browser::PausedRequest>& request) {
  void* memory = lua_newuserdatauv(L, sizeof(RequestBox), 0);
  new (memory) RequestBox{request};
  luaL_setmetatable(L, kRequestMetatable);
}

void register_request_type(lua_State* L) {
  register_locked_metatable(L, kRequestMetatable, l_request_index, l_request_gc,
                            l_request_tostring);
}

}  // namespace belay::lua
