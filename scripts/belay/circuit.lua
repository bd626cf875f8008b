-- belay.circuit{ failures = 5, window_ms = 60000, cooldown_ms = 60000 }
-- A circuit breaker: after `failures` failures within `window_ms` it opens,
-- and every c:call raises kind `cancelled`, "circuit open", without calling
-- fn. After `cooldown_ms` one trial call is let through (half_open): its
-- success closes the circuit, its failure opens it again for a cool-down.
--
-- It stops a campaign from hammering a site that is down, and gives it a
-- cheap way to notice when the site is back.

local Circuit = {}
Circuit.__index = Circuit

local known = { failures = "number", window_ms = "number", cooldown_ms = "number",
                now = "function" }

-- A mistake in the options is the caller's: its line is named (level 3:
-- the script that called belay.circuit).
local function check(opts)
  if opts == nil then
    return {}
  end
  if type(opts) ~= "table" then
    belay.error("config", "belay.circuit: options must be a table, got " .. type(opts), 3)
  end
  for key, value in pairs(opts) do
    local want = known[key]
    if want == nil then
      belay.error("config", "belay.circuit: unknown option '" .. tostring(key)
        .. "'; valid: failures, window_ms, cooldown_ms, now", 3)
    end
    if type(value) ~= want or (want == "number" and not (value > 0)) then
      belay.error("config", "belay.circuit: " .. key .. " must be "
        .. (want == "number" and "a number above 0" or "a function") .. ", got "
        .. tostring(value), 3)
    end
  end
  return opts
end

local function new(opts)
  opts = check(opts)
  return setmetatable({
    failures = opts.failures or 5,
    window_ms = opts.window_ms or 60000,
    cooldown_ms = opts.cooldown_ms or 60000,
    now = opts.now or belay.now,
    recent = {}, -- times of failures inside the window
    opened_at = nil,
    trial = false,
  }, Circuit)
end

function Circuit:state()
  if self.opened_at == nil then
    return "closed"
  end
  if self.trial or self.now() - self.opened_at >= self.cooldown_ms then
    return "half_open"
  end
  return "open"
end

function Circuit:_record_failure()
  local now = self.now()
  local kept = {}
  for _, t in ipairs(self.recent) do
    if now - t < self.window_ms then
      kept[#kept + 1] = t
    end
  end
  kept[#kept + 1] = now
  self.recent = kept
  if self.trial or #kept >= self.failures then
    self.opened_at = now
    self.trial = false
  end
end

function Circuit:call(fn, ...)
  if type(fn) ~= "function" then
    belay.error("script", "circuit:call: expects a function, got " .. type(fn), 2)
  end
  local state = self:state()
  if state == "open" or (state == "half_open" and self.trial) then
    belay.error("cancelled", "circuit open")
  end
  if state == "half_open" then
    self.trial = true
  end
  local is_trial = state == "half_open"
  local result = table.pack(pcall(fn, ...))
  if result[1] then
    -- Only the trial closes an open circuit: a call that began before it
    -- opened says nothing about whether the cool-down helped.
    if is_trial then
      self.opened_at = nil
      self.trial = false
      self.recent = {}
    end
    return table.unpack(result, 2, result.n)
  end
  self:_record_failure()
  error(result[2], 0)
end

return new
