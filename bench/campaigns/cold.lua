-- bench/run: cold launch to first load. A fresh state directory, one
-- profile, one item that loads a fixture page; the runner times from
-- spawning `belay run` to this item's `item_ok` event.

local P = require("bench_params")

return {
  name = "bench-cold",
  items = { { id = "first-load" } },
  profiles = { "cold" },
  ladder = { steps = {} },
  retry = { attempts = 1 },
  run = function(page, item, ctx)
    page:navigate(P.base .. "/page1")
    return { loaded_ms = belay.now() }
  end,
}
