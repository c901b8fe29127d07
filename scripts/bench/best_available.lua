-- Scenario "best available": every request holds the 2 lowest-id reservable tickets of
-- the benchmark's one event, POST /api/holds {"event_name": EVENT, "quantity": 2}. The
-- event comes after the id range in the script's arguments (`-- FIRST LAST EVENT`).
package.path = "scripts/bench/?.lua;" .. package.path
local bench = require("common")

local hold_request

function init(args)
    bench.ids(args)
    local event = args[3]
    assert(event and not event:find('["\\]'), "usage: wrk ... -s best_available.lua URL -- FIRST LAST EVENT"
        .. " (an event name without quotes or backslashes)")
    hold_request = wrk.format("POST", "/api/holds", { ["Content-Type"] = "application/json" },
        '{"event_name":"' .. event .. '","quantity":2}')
end

function request()
    return hold_request
end

function response(status, headers, body)
    bench.count(status, body, true)
end
