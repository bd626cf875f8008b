-- circuit: jittered exponential backoff behind a circuit breaker that all
-- profiles share, after the error recovery plan's retry manager. Each try
-- of an item goes through the breaker: 5 failures within 60 s, counted over
-- every profile, open it, and then no profile starts a try for the 60 s
-- cool-down; after it one trial try is let through (half open), and its
-- success closes the breaker again while its failure reopens it. Tries are
-- retried 4 times in all, from 1 s doubling up to 60 s, each wait drawn
-- from its upper half.
--
-- Thresholds can be changed per campaign:
--   ladder = { from = "circuit", options = { failures = 3, cooldown_ms = 5000 } }
-- Every transition of the breaker is a `circuit` event.

local defaults = { failures = 5, window_ms = 60000, cooldown_ms = 60000 }

-- One breaker per set of thresholds, shared by every profile (they all run
-- in this one Lua state).
local breakers = {}

local function breaker_for(options)
  local o = {}
  for k, v in pairs(defaults) do
    o[k] = (options and options[k]) or v
  end
  local id = ("%d/%d/%d"):format(o.failures, o.window_ms, o.cooldown_ms)
  if not breakers[id] then
    breakers[id] = { breaker = belay.circuit(o), reported = "closed", options = o }
  end
  return breakers[id]
end

local function report(shared, ctx, state, params)
  if shared.reported ~= state then
    shared.reported = state
    params = params or {}
    params.state = state
    ctx:event("circuit", params)
  end
end

return {
  name = "circuit",
  retry = { attempts = 4, base_ms = 1000, factor = 2, max_ms = 60000, jitter = 0.5,
            kinds = { "context_destroyed", "target_closed", "target_crashed",
                      "browser_disconnected", "timeout", "navigation_failed" } },
  steps = {},
  around = function(run, page, item, ctx)
    local shared = breaker_for(ctx.ladder.options)
    local breaker = shared.breaker
    -- While the breaker is open (or its one trial is out), wait: the item
    -- is not failed, only held back.
    local announced_for -- the opening this item's wait was announced for
    while true do
      local state = breaker:state()
      if state == "closed" or (state == "half_open" and not breaker.trial) then
        break
      end
      local wait = 250
      if state == "open" then
        wait = math.max(50, breaker.opened_at + breaker.cooldown_ms - belay.now())
        report(shared, ctx, "open", { failures = breaker.failures, cooldown_ms = breaker.cooldown_ms })
        if wait > 1000 and announced_for ~= breaker.opened_at then
          announced_for = breaker.opened_at
          ctx:event("waiting", { what = "circuit", ms = wait, until_ms = belay.now() + wait,
                                 why = "the circuit is open after " .. breaker.failures
                                   .. " failures; no try starts until it cools down" })
        end
      end
      belay.sleep(math.min(wait, 1000))
    end
    if breaker:state() == "half_open" then
      report(shared, ctx, "half_open")
    end
    local result = table.pack(pcall(breaker.call, breaker, run, page, item, ctx))
    -- Report what the breaker is now, not what this try did: a try that
    -- began before the breaker opened does not close it.
    local state = breaker:state()
    if state == "closed" then
      report(shared, ctx, "closed")
    elseif state == "open" then
      report(shared, ctx, "open", { failures = breaker.failures, cooldown_ms = breaker.cooldown_ms })
    end
    if result[1] then
      return table.unpack(result, 2, result.n)
    end
    error(result[2], 0)
  end,
}
