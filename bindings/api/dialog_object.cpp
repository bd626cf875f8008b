// The dialog object a page:on("dialog") handler gets: d.type, d.message,
// d.default, d.url, d.answered, d:accept(text?), d:dismiss() (DESIGN.md
// "Lua API", Events). It holds the OpenDialog, which answers once.

#include "api/dialog_object.hpp"
#include "api/handles.hpp"

#include "vm/error_value.hpp"

#include <string>

namespace belay::lua {
namespace {

constexpr const char* kDialogMetatable = "belay.dialog";

struct DialogBox {
  std::shared_ptr<browser::OpenDialog> dialog;
};

void push_dialog_impl(lua_State* L, const std::shared_ptr<browser::OpenDialog>& dialog) {
  void* memory = lua_newuserdatauv(L, sizeof(DialogBox), 0);
  new (memory) DialogBox{dialog};
  luaL_setmetatable(L, kDialogMetatable);
}

// Raises a `script` error of `op` that says where the script called it.
int raise_script_error(lua_State* L, const char* op, const char* message) {
  push_plain_error(L, Kind::script, message, op);
  add_call_site(L);
  return lua_error(L);
}

int l_dialog_answer(lua_State* L, bool accept) {
  const char* op = accept ? "dialog:accept" : "dialog:dismiss";
  auto* box = static_cast<DialogBox*>(luaL_testudata(L, 1, kDialogMetatable));
  if (box == nullptr) {
    return raise_script_error(L, op,
                              accept ? "dialog:accept: expected a dialog (use d:accept())"
                                     : "dialog:dismiss: expected a dialog (use d:dismiss())");
  }
  if (accept && !lua_isnoneornil(L, 2) && lua_type(L, 2) != LUA_TSTRING) {
    return raise_script_error(L, op, "dialog:accept: the prompt text must be a string");
  }
  bool answered = false;
  {
    const std::string text = accept && lua_type(L, 2) == LUA_TSTRING ? lua_tostring(L, 2) : "";
    answered = accept ? box->dialog->accept(text) : box->dialog->dismiss();
  }
  if (!answered) {
    return raise_script_error(L, op,
                              accept ? "dialog:accept: the dialog was answered already"
                                     : "dialog:dismiss: the dialog was answered already");
  }
  return 0;
}

int l_dialog_accept(lua_State* L) { return l_dialog_answer(L, true); }
int l_dialog_dismiss(lua_State* L) { return l_dialog_answer(L, false); }

int l_dialog_index(lua_State* L) {
  auto* box = static_cast<DialogBox*>(luaL_checkudata(L, 1, kDialogMetatable));
  const std::string key = luaL_checkstring(L, 2);
  const browser::DialogInfo& info = box->dialog->info();
  if (key == "type") {
    lua_pushlstring(L, info.type.data(), info.type.size());
  } else if (key == "message") {
    lua_pushlstring(L, info.message.data(), info.message.size());
  } else if (key == "default") {
    lua_pushlstring(L, info.default_prompt.data(), info.default_prompt.size());
  } else if (key == "url") {
    lua_pushlstring(L, info.url.data(), info.url.size());
  } else if (key == "answered") {
    lua_pushboolean(L, box->dialog->answered() ? 1 : 0);
  } else if (key == "accept") {
    lua_pushcfunction(L, l_dialog_accept);
  } else if (key == "dismiss") {
    lua_pushcfunction(L, l_dialog_dismiss);
  } else {
    lua_pushnil(L);
  }
  return 1;
}

int l_dialog_tostring(lua_State* L) {
  auto* box = static_cast<DialogBox*>(luaL_checkudata(L, 1, kDialogMetatable));
  lua_pushfstring(L, "dialog(%s)", box->dialog->info().type.c_str());
  return 1;
}

int l_dialog_gc(lua_State* L) {
  static_cast<DialogBox*>(luaL_checkudata(L, 1, kDialogMetatable))->~DialogBox();
  return 0;
}

}  // namespace

void push_dialog(lua_State* L, const std::shared_ptr<browser::OpenDialog>& dialog) {
  push_dialog_impl(L, dialog);
}

void register_dialog_type(lua_State* L) {
  register_locked_metatable(L, kDialogMetatable, l_dialog_index, l_dialog_gc, l_dialog_tostring);
}

}  // namespace belay::lua
