return {
  items = { { id = 1 } },
  ladder = { from = "standard", backoff_ms = 500, options = { x = 1 },
             retry = { attempts = 2 } },
  run = function() end,
}
