return {
  items = { { id = 1 } },
  retry = { attempts = 0, kinds = { "timeout", "nope" } },
  run = function() end,
}
