return { items = "contacts.jsonl", run = function() end, ladder = "zero_touch" }
