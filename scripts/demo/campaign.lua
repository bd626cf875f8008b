-- The demo campaign: five items over bundled local pages. Two of the pages
-- reload themselves while the script is reading them, which destroys the
-- JavaScript context mid-call; belay turns that into a `context_destroyed`
-- error that belay.retry catches and retries, so the run ends green.

local pages = "file://" .. belay.script_dir .. "/pages/"

return {
  name = "demo",
  items = "items.jsonl",
  profiles = { "demo" },
  home = pages .. "calm.html",
  retry = { attempts = 3, base_ms = 200, kinds = { "context_destroyed", "timeout" } },

  run = function(page, item, ctx)
    page:navigate(pages .. item.page)
    -- A slow read: long enough for a restless page to pull the rug.
    local heading = belay.retry({
      attempts = 4, base_ms = 200, kinds = { "context_destroyed" },
      on_retry = function(err, attempt, wait_ms)
        belay.log.info(("item %s: %s, retry %d in %d ms"):format(item.id, err.kind, attempt, wait_ms))
        ctx:event("retry", { kind = err.kind, attempt = attempt, wait_ms = wait_ms })
      end,
    }, function()
      return page:evaluate([[new Promise(r => setTimeout(
        () => r(document.getElementById('heading').textContent), 300))]])
    end)
    if page:exists("#send") then
      page:type("#to", item.to)
      page:click("#send")
      page:wait_for("#sent", { timeout = 5000 })
      return { heading = heading, sent = page:text("#sent") }
    end
    return { heading = heading, title = page:title() }
  end,
}
