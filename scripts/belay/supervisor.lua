-- belay.supervisor: the bundled policy of the supervisor. The host calls
-- one of these functions at each decision, with the facts and the
-- campaign's settings for that table, and carries out what it returns.
-- A campaign decides itself by giving functions instead (see
-- docs/operations.md, "Supervisor policy"); those may call these to keep
-- the default for the cases they do not handle:
--
--   supervisor = { max_restarts = 5, decide = function(facts, options)
--     if facts.reason == "hung" then return { action = "fatal", reason = "hangs" } end
--     return require("belay.supervisor").after_death(facts, options)
--   end }
--
-- Every function must decide at once: no browser calls, no waits.

local M = {}

-- The delay before a relaunch doubles with each launch that failed in a
-- row, at most this many times (16 times delay_ms), so a browser that
-- cannot start is not hammered.
M.max_delay_doublings = 4

-- A browser died, hung, failed to relaunch, or a script asked to restart
-- it. facts: profile, reason ("disconnected", "hung", "launch failed",
-- "script"), restarts (this profile's, over runs), recent_restarts (ms ago,
-- this run, newest first), launch_failures (in a row), item (the key of
-- the item in flight, if any). options: the campaign's `supervisor`.
--
-- More than max_restarts within period_ms makes the profile fatal: a
-- browser that keeps dying will not be saved by more restarts.
function M.after_death(facts, options)
  local within = 0
  for _, ago in ipairs(facts.recent_restarts) do
    if ago < options.period_ms then
      within = within + 1
    end
  end
  if within >= options.max_restarts then
    return { action = "fatal",
             reason = options.max_restarts .. " restarts within " .. options.period_ms .. " ms" }
  end
  -- The script restarts a live browser on purpose: no reason to wait.
  if facts.reason == "script" then
    return { action = "restart", delay_ms = 0 }
  end
  local doublings = math.min(facts.launch_failures, M.max_delay_doublings)
  return { action = "restart", delay_ms = options.delay_ms * (1 << doublings) }
end

-- An item ended. facts: profile, item, ok, error ({kind, message}, when it
-- failed), error_streak (failures in a row, this one counted; a success
-- resets it, a cancelled item leaves it), items (since the browser's
-- launch). options: the campaign's `pause`. Returns nil, or a pause.
function M.after_item(facts, options)
  if facts.error_streak > options.max_error_streak then
    return { pause_ms = options.ms, reason = "error_streak" }
  end
  return nil
end

-- Between items, before the next one. facts: profile, items and age_ms
-- (since the browser's launch), memory_mb (its process group, read at most
-- once per health.interval_ms; absent for an attached browser). options:
-- the campaign's `soft_restart`; 0 turns a limit off. Returns nil, or a
-- soft restart with its reason.
function M.between_items(facts, options)
  if options.items > 0 and facts.items >= options.items then
    return { reason = "items" }
  end
  if options.ms > 0 and facts.age_ms >= options.ms then
    return { reason = "age" }
  end
  if options.memory_mb > 0 and facts.memory_mb and facts.memory_mb >= options.memory_mb then
    return { reason = "memory", detail = { cap_mb = options.memory_mb } }
  end
  return nil
end

-- A pause ran out. facts: profile, error_streak. options: the campaign's
-- `pause`. Returns nil to resume the profile (its streak starts again), or
-- another pause.
function M.pause_ended(facts, options)
  return nil
end

return M
