-- The demo campaign: six items over bundled local pages, on two profiles in
-- parallel. Two of the pages reload themselves while the script reads them,
-- which destroys the JavaScript context mid-call: belay turns that into a
-- `context_destroyed` error and the campaign's `retry` runs the item again.
-- One page hides its heading the first time a tab opens it, so the script's
-- JavaScript throws: no retry fixes that, and the recovery ladder's first
-- step (go home) does. Two items break the browser itself on their first
-- try, as a heavy page or a bad build can: one crashes its tab's renderer
-- (belay replaces the page in the same browser), one crashes the whole
-- browser (the supervisor relaunches it, and the item goes on in the new
-- one). The run ends green, with the retries, recoveries and restarts in
-- STATE/events.jsonl.

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
    if ctx.attempt == 1 and item.crash == "renderer" then
      page:cdp("Page.crash")
    elseif ctx.attempt == 1 and item.crash == "browser" then
      ctx.browser:cdp("Browser.crash")
    end
    -- A slow read: long enough for a restless page to pull the rug.
    local heading = page:evaluate([[new Promise((resolve, reject) => setTimeout(() => {
      try { resolve(document.getElementById('heading').textContent) } catch (e) { reject(e) }
    }, 300))]])
    if page:exists("#send") then
      page:type("#to", item.to)
      page:click("#send")
      page:wait_for("#sent", { timeout = 5000 })
      return { heading = heading, sent = page:text("#sent"), attempt = ctx.attempt }
    end
    return { heading = heading, title = page:title(), attempt = ctx.attempt }
  end,
}
