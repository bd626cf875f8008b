#pragma once
// The request object a route handler gets (request_object.cpp): req.url,
// req.method, req.headers, req.post_data, req.resource_type, req.decided,
// and exactly one of req:continue{url, method, headers, post_data},
// req:fulfill{status, headers, body}, req:abort(reason).

#include "browser/request_interception.hpp"

#include <lua.hpp>

#include <memory>

namespace belay::lua {

void push_request(lua_State* L, const std::shared_ptr<browser::PausedRequest>& request);
void register_request_type(lua_State* L);

}  // namespace belay::lua
