-- The demo campaign: eight items over bundled pages, on two profiles in
-- parallel. Some items meet a fault on their first try, the faults that stop
-- Puppeteer scripts, which the demo injects itself so that every run shows
-- them:
--   reload    the page reloads under a running read, which destroys its
--             JavaScript context: belay raises `context_destroyed` and the
--             campaign's `retry` runs the item again;
--   renderer  the tab's renderer crashes: belay replaces the page in the
--             same browser;
--   browser   the whole browser crashes: the supervisor relaunches it and
--             the item goes on in the new one.
-- One page hides its heading the first time a tab opens it, so the script's
-- JavaScript throws: no retry fixes that, and the recovery ladder's first
-- step (go home) does. The run ends green, with the retries, recoveries and
-- restarts in STATE/events.jsonl.

local pages = "file://" .. belay.script_dir .. "/pages/"

return {
  name = "demo",
  items = "items.jsonl",
  profiles = { "demo-1", "demo-2" },
  home = pages .. "calm.html",
  -- The standard ladder (home, back, reload, reopen page, restart browser)
  -- with a short wait between steps instead of 30 s.
  ladder = { from = "standard", backoff_ms = 500 },
  retry = { attempts = 3, base_ms = 200, kinds = { "context_destroyed", "timeout" } },
  supervisor = { delay_ms = 500 },

  run = function(page, item, ctx)
    page:navigate(pages .. item.page)
    local first_try = ctx.attempt == 1
    if first_try and item.fault == "renderer" then
      page:cdp("Page.crash")
    elseif first_try and item.fault == "browser" then
      ctx.browser:cdp("Browser.crash")
    end
    -- A slow read. On a restless item's first try the page reloads 150 ms
    -- into it; the reload starts inside the read, so however slow the machine
    -- it cannot land before the read begins.
    local read = [[new Promise((resolve, reject) => setTimeout(() => {
      try { resolve(document.getElementById('heading').textContent) } catch (e) { reject(e) }
    }, 300))]]
    if first_try and item.fault == "reload" then
      read = "setTimeout(() => location.reload(), 150);\n" .. read
    end
    local heading = page:evaluate(read)
    if page:exists("#send") then
      page:type("#to", item.to)
      page:click("#send")
      page:wait_for("#sent", { timeout = 5000 })
      return { heading = heading, sent = page:text("#sent"), attempt = ctx.attempt }
    end
    return { heading = heading, title = page:title(), attempt = ctx.attempt }
  end,
}
