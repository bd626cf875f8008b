local r = belay.json.decode('[{"id":1},{"id":2}]')
return { items = r, run = function() end, home = belay.json.encode({ a = 1 }) }
