-- wrk script: GET <path> with a session cookie, round robin over the cookies in a file;
-- counts answers that are not the signed-in space home (status 200 and id="space-home").
--   wrk ... <url> -s page_views.lua -- <cookie file> <path>
-- Without arguments: plain GETs of the URL, counting answers that are not 200.

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  cookies = {}
  if args[1] then
    for line in io.lines(args[1]) do
      if #line > 0 then table.insert(cookies, line) end
    end
  end
  path = args[2] or wrk.path
  sent = 0
  bad = 0
end

function request()
  sent = sent + 1
  if #cookies == 0 then
    return wrk.format("GET", path)
  end
  local cookie = cookies[(sent % #cookies) + 1]
  return wrk.format("GET", path, { ["Cookie"] = "dingbridge_session=" .. cookie })
end

function response(status, headers, body)
  if status ~= 200 or (#cookies > 0 and not string.find(body, 'id="space-home"', 1, true)) then
    bad = bad + 1
  end
end

function done(summary, latency, requests)
  local total = 0
  for _, thread in ipairs(threads) do
    total = total + thread:get("bad")
  end
  io.write(string.format("WRONG_ANSWERS %d\n", total))
end
