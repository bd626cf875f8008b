-- zero_touch: the Zero-Touch Recovery system. "Execution context was
-- destroyed" is retried up to 3 tries, 1 s then 2 s apart (exponential
-- backoff, no jitter). A browser that disconnects is relaunched after 3 s,
-- at most 10 times. The browser is restarted preventively every 2 hours or
-- 500 items, between items, and its health is checked every 30 s.

return {
  name = "zero_touch",
  retry = { attempts = 3, base_ms = 1000, factor = 2, max_ms = 30000, jitter = 0,
            kinds = { "context_destroyed" } },
  -- One step: backoff_ms (waited between steps) would never apply.
  steps = {
    -- A browser that died was relaunched by the supervisor already, after
    -- supervisor.delay_ms (3 s); any other failure relaunches it here.
    { name = "relaunch", run = function(page, ctx)
        local died = ctx.error and ctx.error.kind == "browser_disconnected"
        if not died then ctx:restart_browser() end
      end },
  },
  supervisor = { max_restarts = 10, delay_ms = 3000, period_ms = 24 * 3600 * 1000 },
  soft_restart = { items = 500, ms = 2 * 3600 * 1000 },
  health = { interval_ms = 30000, timeout_ms = 5000 },
}
