#include "lua_executor.hpp"

#include "ctx.hpp"
#include "error.hpp"
#include "handles.hpp"
#include "json.hpp"

namespace belay::lua {

void LuaExecutor::run_item(const campaign::ItemAttempt& attempt,
                           std::shared_ptr<campaign::BrowserSession> session, Done done) {
  lua_State* task = runtime_.new_task();
  if (task == nullptr) {
    return done(Error{Kind::sandbox, "no memory left to start the item", "run", {}});
  }
  std::shared_ptr<LoadedCampaign> version = campaign_;
  version->push_run(task);
  if (session && session->current_page()) {
    push_page(task, session->current_page(), session);
  } else {
    lua_pushnil(task);
  }
  push_json(task, attempt.item);
  version->push_table(task);
  push_ctx(task, attempt, session, -1);
  lua_remove(task, -2);  // the campaign table, now inside ctx
  runtime_.start(task, 3, [version, done = std::move(done)](lua_State* t,
                                                             const ResumeResult& result) {
    if (result.status == ResumeStatus::error) return done(to_error(t, -1));
    if (result.nresults == 0) return done(nlohmann::json(nullptr));
    auto value = to_json(t, -result.nresults);
    if (!value) {
      Error e = value.error();
      e.message = "run returned a value that is not JSON: " + e.message;
      return done(std::move(e));
    }
    done(std::move(value.value()));
  });
}

}  // namespace belay::lua
