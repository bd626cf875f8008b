#pragma once
// The dialog object dialog handlers get (dialog_object.cpp).

#include "browser/dialog.hpp"

#include <lua.hpp>

#include <memory>

namespace belay::lua {

void push_dialog(lua_State* L, const std::shared_ptr<browser::OpenDialog>& dialog);
void register_dialog_type(lua_State* L);

}  // namespace belay::lua
