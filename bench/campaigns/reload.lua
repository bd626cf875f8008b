-- bench/run: hot reload, write to live. The runner rewrites this file (a
-- copy in its work directory) with a new VERSION and times the write to the
-- `reload` event and to the first item that runs on the new version (its
-- `bench_live` event).

local VERSION = 0

local P = require("bench_params")

local items = {}
for i = 1, P.items do items[i] = { id = "rl-" .. i } end

return {
  name = "bench-reload",
  items = items,
  profiles = { "reload" },
  ladder = { steps = {} },
  soft_restart = { items = 0, ms = 0 },
  run = function(page, item, ctx)
    ctx:event("bench_live", { version = VERSION })
    belay.sleep(P.item_sleep)
    return { version = VERSION }
  end,
}
