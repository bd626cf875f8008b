-- bench/run: SIGKILL of the browser to the next successful item, through
-- belay's own supervisor. Items load /item?key=K and wait P.item_sleep ms;
-- the runner kills the browser PID from the latest `browser_launch` event
-- and waits for the next `item_ok` from a new browser. The supervisor
-- relaunches at once (delay_ms = 0: the figure is the mechanism, not the
-- back-off policy) and may restart as often as the runner kills.

local P = require("bench_params")

local items = {}
for i = 1, P.items do items[i] = { id = "rec-" .. i } end

return {
  name = "bench-recovery",
  items = items,
  profiles = { "recovery" },
  ladder = { steps = {} },
  retry = { attempts = 2, base_ms = 0, kinds = { "browser_disconnected", "target_closed" } },
  supervisor = { max_restarts = 100000, period_ms = 60000, delay_ms = 0 },
  soft_restart = { items = 0, ms = 0 },
  pause = { max_error_streak = 100000, ms = 1000 },
  run = function(page, item, ctx)
    page:navigate(P.base .. "/item?key=" .. item.id)
    belay.sleep(P.item_sleep)
    return { ok = true }
  end,
}
