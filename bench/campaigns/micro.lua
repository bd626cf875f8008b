-- bench/run: the single-browser figures from a Lua campaign, the same steps
-- as `node bench/node/peer.mjs micro`: sequential page:evaluate("1+1"),
-- navigations between two fixture pages, viewport screenshots. One item on
-- one profile; the timings leave as `bench_*` events in events.jsonl.
--
-- belay.now() counts whole milliseconds, so evaluates are timed in batches
-- of P.batch calls (the runner reports the per-call mean of each batch);
-- navigations and screenshots take long enough to time one by one.
-- Pipelined evaluates run as P.window sibling tasks (belay.all), each taking
-- the next of P.pipe_n calls, as peer.mjs's workers do with Promise.all.

local P = require("bench_params")

local function timed(n, body)
  local ms = {}
  for i = 1, n do
    local start = belay.now()
    body(i)
    ms[i] = belay.now() - start
  end
  return ms
end

return {
  name = "bench-micro",
  items = { { id = "micro" } },
  profiles = { "micro" },
  ladder = { steps = {} },
  retry = { attempts = 1 },
  run = function(page, item, ctx)
    page:navigate(P.base .. "/page1")
    for _ = 1, 50 do page:evaluate("1+1") end
    local batches = timed(P.n // P.batch, function()
      for _ = 1, P.batch do
        if page:evaluate("1+1") ~= 2 then error("1+1 ~= 2") end
      end
    end)
    ctx:event("bench_eval", { batch = P.batch, batch_ms = batches })
    local sent = 0
    local function worker()
      while sent < P.pipe_n do
        sent = sent + 1
        if page:evaluate("1+1") ~= 2 then error("1+1 ~= 2") end
      end
    end
    local workers = {}
    for i = 1, P.window do workers[i] = worker end
    local pipe_start = belay.now()
    belay.all(table.unpack(workers))
    ctx:event("bench_pipe", { n = P.pipe_n, window = P.window, ms = belay.now() - pipe_start })
    timed(4, function(i) page:navigate(P.base .. "/page" .. (1 + i % 2)) end)
    ctx:event("bench_nav", { ms = timed(P.navs, function(i)
      page:navigate(P.base .. "/page" .. (1 + i % 2))
    end) })
    -- Relative: into the state dir's screenshots/ (scripts write only
    -- inside the folders docs/lua-api.md "Files" names).
    page:screenshot("belay-warm.png")
    ctx:event("bench_shot", { ms = timed(P.shots, function(i)
      page:screenshot("belay-" .. (i % 5) .. ".png")
    end) })
    return { ok = true }
  end,
}
