-- auto_restart: the bots' auto-restart on a fatal error. An item that fails
-- is run again from scratch up to 3 more times (4 tries in all), each time
-- in a freshly restarted browser, 5 s apart. Every restart is logged as a
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
      local died = ctx.error and ctx.error.kind == "browser_disconnected"
      if not died then ctx:restart_browser() end
    end,
  }
end

return {
  name = "auto_restart",
  -- No call retry: the unit of retry is the whole item.
  retry = { attempts = 1 },
  backoff_ms = 5000,
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
