-- bench/run: the host at rest with one idle browser. One item loads a
-- fixture page, says so (`bench_idle` event), then waits; the runner reads
-- the belay process's RSS and CPU time from /proc meanwhile and ends the run
-- with SIGTERM.

local P = require("bench_params")

return {
  name = "bench-idle",
  items = { { id = "idle" } },
  profiles = { "idle" },
  ladder = { steps = {} },
  retry = { attempts = 1 },
  run = function(page, item, ctx)
    page:navigate(P.base .. "/page1")
    ctx:event("bench_idle", {})
    belay.sleep(P.idle_ms)
    return { ok = true }
  end,
}
