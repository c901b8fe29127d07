-- Shared by the wrk scenarios of scripts/bench.sh: per-thread counts of statuses, of
-- holds granted and of malformed 409 bodies, summed into one RESULT line in done().
-- A scenario script sets `ids` (first, last) from its arguments and defines request().

local bench = {}

local threads = {}

-- Counters live in each thread's own Lua state; done() collects them.
counts = { s2xx = 0, s409 = 0, s4xx = 0, s5xx = 0, holds = 0, bad409 = 0, other = 0 }

function setup(thread)
    table.insert(threads, thread)
    thread:set("thread_number", #threads)
end

-- The 409 codes of the contract; each must come as the full error envelope.
local conflict_codes = {
    RESERVATION_ALREADY_ACTIVE = true,
    TICKET_ALREADY_CONFIRMED = true,
    NO_ACTIVE_RESERVATION = true,
    RESERVATION_EXPIRED = true,
    TICKETS_UNAVAILABLE = true,
}

local function proper_conflict(body)
    local code = body:match('"error_code":"([A-Z_]+)"')
    return code ~= nil and conflict_codes[code]
        and body:find('"message":"[^"]', 1) ~= nil
        and body:find('"details":{', 1, true) ~= nil
end

-- Counts one response; `reserving` says whether it answered a request that places a hold
-- (POST .../reservation, POST /api/holds): its 201 is a hold granted.
function bench.count(status, body, reserving)
    if status >= 200 and status < 300 then
        counts.s2xx = counts.s2xx + 1
        if reserving and status == 201 then
            counts.holds = counts.holds + 1
        end
    elseif status == 409 then
        counts.s409 = counts.s409 + 1
        if not proper_conflict(body) then
            counts.bad409 = counts.bad409 + 1
            if counts.bad409 <= 3 then
                io.stderr:write("malformed 409 body: " .. body .. "\n")
            end
        end
    elseif status >= 500 then
        counts.s5xx = counts.s5xx + 1
        if counts.s5xx <= 3 then
            io.stderr:write("status " .. status .. ": " .. body .. "\n")
        end
    elseif status >= 400 then
        counts.s4xx = counts.s4xx + 1
    else
        counts.other = counts.other + 1
    end
end

-- The ticket ids to draw from, from the script's arguments (`-- FIRST LAST`).
function bench.ids(args)
    local first, last = tonumber(args[1]), tonumber(args[2])
    assert(first and last and first <= last, "usage: wrk ... -s SCRIPT URL -- FIRST_ID LAST_ID")
    math.randomseed(os.time() * 1000 + (thread_number or 0))
    return first, last
end

function done(summary, latency, requests)
    local total = { s2xx = 0, s409 = 0, s4xx = 0, s5xx = 0, holds = 0, bad409 = 0, other = 0 }
    for _, thread in ipairs(threads) do
        local thread_counts = thread:get("counts")
        for key, value in pairs(thread_counts) do
            total[key] = total[key] + value
        end
    end
    local errors = summary.errors
    io.write(string.format(
        "RESULT requests=%d duration_us=%d p50_us=%d p99_us=%d max_us=%d s2xx=%d s409=%d s4xx=%d s5xx=%d other=%d holds=%d bad409=%d socket_errors=%d timeouts=%d\n",
        summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
        latency.max, total.s2xx, total.s409, total.s4xx, total.s5xx, total.other, total.holds,
        total.bad409, errors.connect + errors.read + errors.write, errors.timeout))
end

return bench
