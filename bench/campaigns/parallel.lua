-- bench/run: P.profiles browsers in parallel, each taking the next pending
-- item: load /item?key=K, read the title. The runner counts `item_ok` events
-- and the belay process's CPU time over a window, then stops the run with
-- SIGTERM. Soft restarts are off so that every profile keeps one browser.

local P = require("bench_params")

local profiles = {}
for i = 1, P.profiles do profiles[i] = "par-" .. i end

local items = {}
for i = 1, P.items do items[i] = { id = "par-" .. i } end

return {
  name = "bench-parallel",
  items = items,
  profiles = profiles,
  ladder = { steps = {} },
  soft_restart = { items = 0, ms = 0 },
  run = function(page, item, ctx)
    page:navigate(P.base .. "/item?key=" .. item.id)
    return { title = page:evaluate("document.title") }
  end,
}
