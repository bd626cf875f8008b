-- belay.attempt: the two inner layers of recovery for one item
-- (docs/ladders.md), run by the host as the item's task.
--
--   1. call retry: an error whose kind is in `policy.kinds` runs the item
--      again, after the campaign's backoff, up to `policy.attempts` tries;
--   2. the ladder: each step in order, `ladder.backoff_ms` between steps
--      (the first runs at once), then the item again; the first success
--      ends it.
--
-- A wait longer than a second is announced first with a `waiting` event
-- (what, why, ms, until_ms), so a run is never silent while it waits.
--
-- Errors that no retry or recovery can fix end the item at once: config
-- (a bad definition), script (a bug), sandbox (a quota) and cancelled
-- (shutdown, reload, a pause); so does an error the ladder's
-- `unfixable(err, ctx)` names a reason for (a host name that does not
-- resolve: no step can fix the address), with a `recover` event, outcome
-- `skip`, that says why.
--
-- ctx.ladder is the ladder (hooks read their `options` there) and ctx.error
-- the error a step or on_exhausted is called for.
--
-- `host` is the runner's side: host.try() before each try (returns the
-- attempt number, which counts over runs), host.event(name, params,
-- outcome, dur_ms) for `retry` and `recover` events, and host.ready(),
-- which waits while the supervisor relaunches a browser that died or hung
-- under the item, and raises when the profile will not come back (fatal,
-- or the run is stopping): nothing a try or a step could do then.

local retry = require("belay.retry")

local final_kinds = { config = true, script = true, sandbox = true, cancelled = true }

local function kind_of(err)
  if type(err) == "table" and type(err.kind) == "string" then
    return err.kind
  end
  return "script" -- a plain Lua error is a bug in the script
end

local function describe(err)
  if type(err) == "table" then
    return { kind = kind_of(err), message = tostring(err.message), op = err.op }
  end
  return { kind = "script", message = tostring(err) }
end

local function retryable(err, kinds)
  local kind = kind_of(err)
  if final_kinds[kind] then
    return false
  end
  for _, k in ipairs(kinds) do
    if k == kind then
      return true
    end
  end
  return false
end

-- Longer than this, a wait is announced: a person watching should never
-- wonder whether the run is stuck.
local announce_after_ms = 1000

local function wait(host, ms, what, why, params)
  if ms <= 0 then
    return
  end
  if ms > announce_after_ms then
    local announced = { what = what, why = why, ms = ms, until_ms = belay.now() + ms }
    for k, v in pairs(params or {}) do
      announced[k] = v
    end
    host.event("waiting", announced)
  end
  belay.sleep(ms)
end

return function(run, ladder, policy, item, ctx, host)
  ctx.ladder = ladder
  local function try()
    ctx.attempt = host.try()
    -- No page: the script closed it, or the browser died after host.ready()
    -- said it was up. That is the page's failure, for retries and the
    -- ladder to handle, not a nil for run to index.
    local page = ctx.page
    if page == nil then
      belay.error("target_closed",
        "the profile has no page to run on (it was closed, or its browser went away)")
    end
    if ladder.around then
      return ladder.around(run, page, item, ctx)
    end
    return run(page, item, ctx)
  end

  local function try_when_ready()
    host.ready()
    return pcall(try)
  end

  -- Layer 1: call retry.
  local tries = 1
  local ok, result = try_when_ready()
  while not ok and tries < policy.attempts and retryable(result, policy.kinds) do
    local delay = retry.delay(policy, tries)
    local params = describe(result)
    params.attempt = tries
    params.wait_ms = delay
    host.event("retry", params)
    wait(host, delay, "retry", "call retry backoff after " .. params.kind, { attempt = tries })
    tries = tries + 1
    ok, result = try_when_ready()
  end
  if ok then
    return result
  end
  local err = result
  if final_kinds[kind_of(err)] then
    error(err, 0)
  end

  -- Layer 2: the ladder, unless it says no step can fix this error.
  if ladder.unfixable and #(ladder.steps or {}) > 0 then
    ctx.error = err
    local judged, why = pcall(ladder.unfixable, err, ctx)
    if not judged then
      local failure = describe(why)
      host.event("handler_failed", { handler = "ladder.unfixable", kind = failure.kind,
        message = failure.message }, "fail")
    elseif why then
      host.event("recover", { why = tostring(why), error = describe(err) }, "skip")
      error(err, 0)
    end
  end
  for i, step in ipairs(ladder.steps or {}) do
    local name = step.name or ("step " .. i)
    if i > 1 then
      wait(host, ladder.backoff_ms or 0, "recover", "ladder backoff_ms between steps",
        { step = i, name = name })
    end
    ctx.error = err
    local started = belay.now()
    host.ready()
    local step_ok, step_err = pcall(step.run, ctx.page, ctx)
    if step_ok then
      ok, result = try_when_ready()
      if ok then
        host.event("recover", { step = i, name = name }, "ok", belay.now() - started)
        return result
      end
      err = result
      host.event("recover", { step = i, name = name, error = describe(err) }, "fail",
        belay.now() - started)
      if final_kinds[kind_of(err)] then
        error(err, 0)
      end
    else
      -- The step itself failed (a dead browser fails go_home): the next
      -- step may still help, unless nothing can.
      -- A step that does not apply (go_home without a home) is a config
      -- error of the step, not of the item: the next step goes on.
      host.event("recover", { step = i, name = name, step_error = describe(step_err) }, "fail",
        belay.now() - started)
      local kind = kind_of(step_err)
      if kind == "sandbox" or kind == "cancelled" then
        error(step_err, 0)
      end
    end
  end
  if ladder.on_exhausted then
    ctx.error = err
    local hook_ok, hook_err = pcall(ladder.on_exhausted, ctx.page, ctx, err)
    if not hook_ok then
      belay.log.warn("ladder on_exhausted failed: " .. tostring(hook_err))
    end
  end
  error(err, 0)
end
