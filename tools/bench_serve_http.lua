-- wrk script for tools/bench_serve_http.sh: POSTs the Criteo TSV rows of the file $BODY to /score
-- on every request, and counts answers that are not 200 (printed at the end; they void the run).
local f = assert(io.open(os.getenv("BODY"), "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "text/tab-separated-values"

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  bad = 0
end

function response(status, headers, body)
  if status ~= 200 then
    bad = bad + 1
  end
end

function done(summary, latency, requests)
  local n = 0
  for _, t in ipairs(threads) do
    n = n + t:get("bad")
  end
  io.write(string.format("non-200 answers: %d\n", n))
end
