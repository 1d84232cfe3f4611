-- wrk script for benchmarks/service_load.sh: POST /allocate with a unique order id per request,
-- spread over SKUS SKUs (SKU-0 .. SKU-<n-1>, each stocked by the script before the run).
-- SPDX-License-Identifier: MIT
local skus = tonumber(os.getenv("SKUS") or "16")
local counter = 0
local thread_id = 0
local threads = {}

function setup(thread)
    thread:set("id", thread_id)
    thread_id = thread_id + 1
    table.insert(threads, thread)
end

function init(args)
    prefix = string.format("w%d-%d-", id, math.random(1, 1000000000))
end

function request()
    counter = counter + 1
    local body = string.format('{"orderid":"%s%d","sku":"SKU-%d","qty":1}', prefix, counter, counter % skus)
    return wrk.format("POST", "/allocate", {["Content-Type"] = "application/json"}, body)
end

function done(summary, latency, requests)
    local non2xx = summary.errors.status
    io.write(string.format("RESULT requests=%d duration_us=%d req_per_s=%.0f p50_ms=%.2f p90_ms=%.2f p99_ms=%.2f max_ms=%.2f non2xx=%d socket_errors=%d\n",
        summary.requests, summary.duration, summary.requests / (summary.duration / 1e6),
        latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
        latency.max / 1000, non2xx,
        summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
