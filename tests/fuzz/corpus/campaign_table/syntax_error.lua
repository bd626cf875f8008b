return { items = { run = function( end }
