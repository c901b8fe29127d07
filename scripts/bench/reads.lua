-- Scenario "reads": GET /api/tickets/{id} of random tickets.
package.path = "scripts/bench/?.lua;" .. package.path
local bench = require("common")

local first, last

function init(args)
    first, last = bench.ids(args)
end

function request()
    return wrk.format("GET", "/api/tickets/" .. math.random(first, last))
end

function response(status, headers, body)
    bench.count(status, body, false)
end
