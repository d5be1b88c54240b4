-- wrk script for pmo-api, mirroring ../shared/bench/lua/pmo.lua's request mix on
-- pmo-api's paths, with "Authorization: Bearer <key>" on every request.
--   ROUTE=healthz|get|list|rollup|graphql|post   LABEL=<free text, echoed in the result>
--   PMO_API_KEY   the API key (required except for healthz)
--   PMO_DATA_DIR  folder written by bench/run.py from pmo-api's own seed:
--                 get.txt list.txt rollup.txt   one path per line
--                 graphql.txt                   one JSON request body per line
--                 portfolios.txt people.txt     one UUID per line (POST bodies)
--   RUN_TAG       unique per wrk run (POST keys and Idempotency-Keys)
-- GET routes and GraphQL cycle through 2000 pre-built random requests per thread
-- (cheap for the load generator); POST builds a unique body per request.
-- done() prints ONE JSON line (machine-readable) on stdout, the same fields as pmo.lua.

local route = os.getenv("ROUTE") or "healthz"
local label = os.getenv("LABEL") or ""
local api_key = os.getenv("PMO_API_KEY") or ""
local data_dir = os.getenv("PMO_DATA_DIR") or "."
local run_tag = os.getenv("RUN_TAG") or string.format("%05d", os.time() % 100000)

local counter = 0
local threads = {}

function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end

local function lines(name)
  local out = {}
  local f = assert(io.open(data_dir .. "/" .. name, "r"), "missing " .. data_dir .. "/" .. name)
  for line in f:lines() do
    if line ~= "" then out[#out + 1] = line end
  end
  f:close()
  assert(#out > 0, name .. " is empty")
  return out
end

local reqs = {}
local nreq = 0
local idx = 0
local portfolios, people
local auth = "Bearer " .. api_key

function init(args)
  math.randomseed((tid or 0) * 7919 + os.time())
  wrk.headers["Authorization"] = auth
  if route == "post" then
    portfolios = lines("portfolios.txt")
    people = lines("people.txt")
    return
  end
  if route == "healthz" then
    wrk.headers["Authorization"] = nil
    reqs[1] = wrk.format("GET", "/healthz")
  elseif route == "graphql" then
    local bodies = lines("graphql.txt")
    for i = 1, 2000 do
      reqs[i] = wrk.format("POST", "/graphql",
        { ["Authorization"] = auth, ["Content-Type"] = "application/json" },
        bodies[math.random(1, #bodies)])
    end
  else
    local paths = lines(route .. ".txt")
    for i = 1, 2000 do
      reqs[i] = wrk.format("GET", paths[math.random(1, #paths)])
    end
  end
  nreq = #reqs
end

local body_fmt = '{"key":"LD%s%d-%d","name":"Load test project %d",' ..
  '"description":"Created by the load generator","portfolio_id":"%s",' ..
  '"manager_id":"%s","sponsor_id":"%s","methodology":"Hybrid","phase":"Initiation",' ..
  '"status":"active","health":"amber","priority_score":40,"planned_budget":250000.00,' ..
  '"percent_complete":5,"planned_start":"2026-01-05","planned_end":"2026-12-18",' ..
  '"attributes":{"cost_center":"CC-4711"}}'

function request()
  if route == "post" then
    counter = counter + 1
    local body = string.format(body_fmt, run_tag, tid or 0, counter, counter,
      portfolios[math.random(1, #portfolios)], people[math.random(1, #people)],
      people[math.random(1, #people)])
    return wrk.format("POST", "/api/v1/projects", {
      ["Authorization"] = auth,
      ["Content-Type"] = "application/json",
      ["Idempotency-Key"] = string.format("bench-%s-%d-%d", run_tag, tid or 0, counter),
    }, body)
  end
  idx = idx + 1
  if idx > nreq then idx = 1 end
  return reqs[idx]
end

function done(summary, latency, requests)
  local e = summary.errors
  local dur = summary.duration / 1e6
  io.write(string.format(
    '{"label":"%s","route":"%s","requests":%d,"duration_s":%.2f,"rps":%.1f,' ..
    '"p50_ms":%.3f,"p90_ms":%.3f,"p99_ms":%.3f,"max_ms":%.3f,"mean_ms":%.3f,' ..
    '"non2xx":%d,"err_connect":%d,"err_read":%d,"err_write":%d,"err_timeout":%d}\n',
    label, route, summary.requests, dur, summary.requests / dur,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000, latency.mean / 1000,
    e.status, e.connect, e.read, e.write, e.timeout))
end
