-- Each request takes the next line of the body file: a distinct voucher (or resident) per
-- request. A line is `authorization<TAB>idempotency key or -<TAB>JSON body`.
-- Threads take interleaved lines (thread k: k, k+T, k+2T, ...). A thread that runs out of
-- lines starts over and counts it (`wrapped`): those requests repeat a voucher, pass or
-- idempotency key, so run.py voids the round.
local counter, lines, step, first = 0, {}, 1, 1
wrapped = 0  -- global: done() reads it from every thread
statuses = {}  -- global: done() reads it from every thread
local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("id", #threads)
end

function init(args)
  for line in io.lines(os.getenv("BENCH_BODIES")) do
    local auth, key, body = line:match("^([^\t]*)\t([^\t]*)\t(.*)$")
    lines[#lines + 1] = {auth, key, body}
  end
  step = tonumber(os.getenv("BENCH_THREADS"))
  first = id
  counter = 0
  wrk.method = "POST"
end

function request()
  local i = first + counter * step
  counter = counter + 1
  if i > #lines then
    i = ((i - 1) % #lines) + 1
    wrapped = wrapped + 1
  end
  local line = lines[i]
  local headers = {["Content-Type"] = "application/json", ["Authorization"] = line[1]}
  if line[2] ~= "-" then headers["Idempotency-Key"] = line[2] end
  return wrk.format(nil, nil, headers, line[3])
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local mix, reused = {}, 0
  for _, thread in ipairs(threads) do
    reused = reused + thread:get("wrapped")
    local s = thread:get("statuses")
    for code, n in pairs(s) do mix[code] = (mix[code] or 0) + n end
  end
  local parts = {}
  for code, n in pairs(mix) do parts[#parts + 1] = code .. "=" .. n end
  table.sort(parts)
  io.write(string.format("STATUS %s\n", table.concat(parts, " ")))
  io.write(string.format("WRAPPED %d\n", reused))
  io.write(string.format("LAT p50=%.2f p99=%.2f\n", latency:percentile(50) / 1000,
    latency:percentile(99) / 1000))
end
