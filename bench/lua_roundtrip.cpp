// page:evaluate("1+1") from a Lua script against the same call made from
// C++, in one run on one browser: what the Lua bridge (coroutine yield,
// resume from the loop, value conversion) adds to the CDP round trip.
//
//   build/release/bench-lua-roundtrip [--n 1000]
//
// The Lua figure is per call, from batches of 10 calls in one task (timed
// from C++), so task start-up is amortised the way a campaign's run() does.

#include "api/belay.hpp"
#include "api/handles.hpp"
#include "browser/browser_session.hpp"
#include "stats.hpp"
#include "vm/runtime.hpp"

#include <chrono>
#include <cstring>

using belay::Error;
using belay::Result;
namespace lua = belay::lua;

namespace {

template <typename Pred>
void spin(uv_loop_t* loop, Pred done) {
  while (!done()) uv_run(loop, UV_RUN_ONCE);
}

double since_us(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start)
      .count();
}

}  // namespace

int main(int argc, char** argv) {
  int n = 1000;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--n") == 0) n = std::atoi(argv[i + 1]);
  }
  uv_loop_t loop;
  uv_loop_init(&loop);
  lua::Runtime runtime(&loop);
  lua::register_page(runtime.main());
  lua::register_browser(runtime.main());
  if (!lua::install_belay(runtime, {".", lua::bundled_scripts_dir()})) return 1;
  belay::browser::BrowserSpec spec;
  if (const char* path = std::getenv("BELAY_CHROME")) spec.launch.chrome_path = path;
  auto session = std::make_shared<belay::browser::BrowserSession>(&loop, spec);
  std::optional<std::optional<Error>> ready;
  session->start([&](std::optional<Error> e) { ready = e; });
  spin(&loop, [&] { return ready.has_value(); });
  if (*ready) {
    std::fprintf(stderr, "%s\n", (*ready)->to_string().c_str());
    return 1;
  }
  auto page = session->current_page();
  std::vector<double> cpp;
  std::vector<double> from_lua;
  const int batch = 10;
  // Interleaved: one C++ batch, one Lua batch, so load drift hits both.
  for (int round = 0; round < n / batch + 5; ++round) {
    for (int i = 0; i < batch; ++i) {
      bool done = false;
      const auto start = std::chrono::steady_clock::now();
      page->evaluate("1+1", 5000, "bench", [&](Result<nlohmann::json>) { done = true; });
      spin(&loop, [&] { return done; });
      if (round >= 5) cpp.push_back(since_us(start));
    }
    lua_State* task = runtime.new_task();
    runtime.state().run_top_level(task,
                                  "return function(page) for i = 1, 10 do "
                                  "assert(page:evaluate('1+1') == 2) end end",
                                  "=bench");
    lua_State* L = task;
    lua_State* run = runtime.new_task();
    lua_xmove(L, run, 1);
    runtime.state().end_task(task);
    lua::push_page(run, page, session);
    bool done = false;
    const auto start = std::chrono::steady_clock::now();
    runtime.start(run, 1, [&](lua_State*, const lua::ResumeResult& r) {
      if (r.status == lua::ResumeStatus::error) std::fprintf(stderr, "lua batch failed\n");
      done = true;
    });
    spin(&loop, [&] { return done; });
    if (round >= 5) from_lua.push_back(since_us(start) / batch);
  }
  belay::bench::print_summary("c++ page.evaluate(1+1)", cpp);
  belay::bench::print_summary("lua page:evaluate(1+1)", from_lua);
  std::printf("ratio lua/c++ (median)       %.2f\n",
              belay::bench::percentile(from_lua, 50) / belay::bench::percentile(cpp, 50));
  bool closed = false;
  session->close([&] { closed = true; });
  spin(&loop, [&] { return closed; });
  return 0;
}
