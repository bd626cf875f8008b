-- belay.retry(opts, fn, ...): calls fn until it succeeds, waiting between
-- attempts with exponential backoff and jitter; returns fn's results.
--
-- opts (all optional, the campaign's `retry` table has the same shape):
--   attempts = 3        tries in all, the first included
--   base_ms  = 1000     wait before the second try
--   factor   = 2        each wait is factor times the one before ...
--   max_ms   = 30000    ... up to this
--   jitter   = 0.5      each wait is drawn from [w * (1 - jitter), w]
--   kinds    = {...}    error kinds worth retrying; default: err.retryable
--   on_retry = function(err, attempt, wait_ms) end
--
-- Jitter keeps several profiles that failed together from retrying in
-- lockstep against the same site.

local M = {}

local function is_retryable(err, kinds)
  if type(err) ~= "table" or type(err.kind) ~= "string" then
    return false -- a plain Lua error is a script bug: retrying will not fix it
  end
  if kinds == nil then
    return err.retryable == true
  end
  for _, kind in ipairs(kinds) do
    if kind == err.kind then
      return true
    end
  end
  return false
end

-- The wait before try `attempt + 1`, in ms. `random` returns [0, 1).
function M.delay(opts, attempt, random)
  opts = opts or {}
  local base = opts.base_ms or 1000
  local factor = opts.factor or 2
  local max = opts.max_ms or 30000
  local jitter = opts.jitter or 0.5
  local wait = math.min(max, base * factor ^ (attempt - 1))
  -- Whole milliseconds inside [wait * (1 - jitter), wait]: the low end is
  -- rounded up, so flooring the draw never lands below it.
  local high = math.floor(wait)
  local low = math.min(math.ceil(wait * (1 - jitter)), high)
  return math.floor(low + (high - low) * (random or math.random)())
end

local function run(opts, fn, ...)
  opts = opts or {}
  local attempts = opts.attempts or 3
  if type(fn) ~= "function" then
    belay.error("config", "belay.retry: second argument must be a function")
  end
  local attempt = 1
  while true do
    local result = table.pack(pcall(fn, ...))
    if result[1] then
      return table.unpack(result, 2, result.n)
    end
    local err = result[2]
    if attempt >= attempts or not is_retryable(err, opts.kinds) then
      error(err, 0)
    end
    local wait = M.delay(opts, attempt, opts.random)
    if opts.on_retry then
      opts.on_retry(err, attempt, wait)
    end
    if wait > 0 then
      (opts.sleep or belay.sleep)(wait)
    end
    attempt = attempt + 1
  end
end

return setmetatable(M, {
  __call = function(_, opts, fn, ...)
    return run(opts, fn, ...)
  end,
})
