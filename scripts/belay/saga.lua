-- belay.saga(steps): runs the steps in order, at once. Each step is
--   { name = "…", run = function() … end, undo = function(result) … end }
-- When a step fails, the steps that completed are undone in reverse order
-- (each undo gets its step's result), then the failure is raised again.
-- Returns the list of the steps' results.
--
-- An undo that fails is logged and the others still run: a half-undone saga
-- is worse than a fully undone one with a warning.

return function(steps)
  if type(steps) ~= "table" then
    belay.error("config", "belay.saga: expects a list of steps")
  end
  -- A bad definition fails before any step runs: nothing to undo.
  for i, step in ipairs(steps) do
    if type(step) ~= "table" or type(step.run) ~= "function" then
      belay.error("config", "belay.saga: step " .. i .. " has no run function")
    end
  end
  local results = {}
  for i, step in ipairs(steps) do
    local ok, result = pcall(step.run)
    if not ok then
      for j = i - 1, 1, -1 do
        local done = steps[j]
        if done.undo then
          local undone, undo_err = pcall(done.undo, results[j])
          if not undone then
            belay.log.warn("saga: undo of step '" .. tostring(done.name or j) .. "' failed: "
              .. tostring(undo_err))
          end
        end
      end
      error(result, 0)
    end
    results[i] = result
  end
  return results
end
