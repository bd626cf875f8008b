#include "repl/repl_chunk.hpp"

#include <lua.hpp>

#include <cstring>
#include <memory>

namespace belay::lua {
namespace {

constexpr const char kChunkName[] = "=stdin";
constexpr const char kEofMark[] = "<eof>";

struct StateCloser {
  void operator()(lua_State* L) const { lua_close(L); }
};

// Compiles `source` in a throwaway state: only the parser's verdict matters
// here, so nothing the console or the campaign owns is touched.
int compile(lua_State* L, const std::string& source, std::string* message) {
  const int status = luaL_loadbufferx(L, source.data(), source.size(), kChunkName, "t");
  if (status != LUA_OK) {
    const char* text = lua_tostring(L, -1);
    *message = text != nullptr ? text : "cannot compile";
  }
  lua_settop(L, 0);
  return status;
}

bool ends_at_eof(const std::string& message) {
  const size_t mark = std::strlen(kEofMark);
  return message.size() >= mark && message.compare(message.size() - mark, mark, kEofMark) == 0;
}

}  // namespace

ChunkPlan plan_chunk(std::string_view text) {
  ChunkPlan plan;
  std::unique_ptr<lua_State, StateCloser> L(luaL_newstate());
  if (!L) {
    plan.message = "not enough memory to compile";
    return plan;
  }
  std::string body(text);
  if (!body.empty() && body.front() == '=') body = "return " + body.substr(1);
  std::string message;
  // An expression first, as lua.c does, so `1+1` and `page:title()` print.
  const std::string as_expression = "return " + body + ";";
  if (body.compare(0, 7, "return ") != 0 && compile(L.get(), as_expression, &message) == LUA_OK) {
    plan.status = ChunkStatus::ready;
    plan.source = as_expression;
    plan.expression = true;
    return plan;
  }
  const int status = compile(L.get(), body, &message);
  if (status == LUA_OK) {
    plan.status = ChunkStatus::ready;
    plan.source = body;
    plan.expression = body.compare(0, 7, "return ") == 0;
    return plan;
  }
  plan.status = status == LUA_ERRSYNTAX && ends_at_eof(message) ? ChunkStatus::incomplete
                                                                : ChunkStatus::syntax_error;
  plan.message = message;
  return plan;
}

}  // namespace belay::lua
