-- auto_restart: the bots' auto-restart on a fatal error. An item that fails
-- is run again from scratch up to 3 more times (4 tries in all), each time
-- in a freshly restarted browser, each restart 5 s after the failure before
-- it (the first one too: options.restart_delay_ms). Every restart is logged as a
-- `restarting` event with a screenshot (restart-<profile>-<n>.png, taken by
-- the host before the browser goes); when all 4 tries have failed a `fatal`
-- event is logged with fatal-<profile>.png and the item fails. A
-- configuration error fails at once: no restart can fix it.

local restarts = 3

local steps = {}
for n = 1, restarts do
  steps[n] = {
    name = "restart " .. n .. "/" .. restarts,
    -- A browser that died is fresh already: the supervisor relaunched it.
    run = function(page, ctx)
      local delay_ms = (ctx.ladder.options or {}).restart_delay_ms or 5000
      if delay_ms > 1000 then
        -- Announced, as every wait over a second is.
        ctx:event("waiting", { what = "restart", why = "auto_restart: the delay before restart " .. n,
                               ms = delay_ms, until_ms = belay.now() + delay_ms })
      end
      belay.sleep(delay_ms)
      local died = ctx.error and ctx.error.kind == "browser_disconnected"
      if not died then ctx:restart_browser() end
    end,
  }
end

return {
  name = "auto_restart",
  -- No call retry: the unit of retry is the whole item.
  retry = { attempts = 1 },
  -- The delay is the steps' own (before every restart, the first too);
  -- backoff_ms is only ever waited between steps.
  backoff_ms = 0,
  options = { restart_delay_ms = 5000 },
  steps = steps,
  on_exhausted = function(page, ctx, err)
    local shot = "fatal-" .. ctx.profile .. ".png"
    local ok = page ~= nil and pcall(page.screenshot, page, shot)
    ctx:event("fatal", {
      scope = "item",
      attempts = restarts + 1,
      error = tostring(err),
      screenshot = ok and shot or nil,
    })
  end,
}
