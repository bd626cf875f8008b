-- bench/run forms: fill + click + wait_for on the fixture's /inputs page, the
-- same steps as `node bench/node/peer.mjs forms` does with Puppeteer's and
-- Playwright's locators: fill #name, click #submit (the page writes #echo),
-- wait until #echo is visible. The page is reset between rounds by an
-- untimed evaluate; each round is timed whole, in milliseconds.

local P = require("bench_params")

return {
  name = "bench-forms",
  items = { { id = "forms" } },
  profiles = { "forms" },
  ladder = { steps = {} },
  retry = { attempts = 1 },
  run = function(page, item, ctx)
    page:navigate(P.base .. "/inputs")
    local reset = "document.getElementById('echo').textContent = ''"
    local function one(i)
      page:fill("#name", "user " .. i)
      page:click("#submit")
      page:wait_for("#echo", { visible = true })
    end
    for i = 1, 10 do
      one(i)
      page:evaluate(reset)
    end
    local ms = {}
    for i = 1, P.rounds do
      local start = belay.now()
      one(i)
      ms[i] = belay.now() - start
      page:evaluate(reset)
    end
    ctx:event("bench_forms", { ms = ms })
    return { ok = true }
  end,
}
