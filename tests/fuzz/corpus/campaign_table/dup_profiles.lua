return { items = { {} }, profiles = { "p1", "p1" }, run = function() end }
