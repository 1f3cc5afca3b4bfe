-- wrk script: POST /api/messages/send as one user to one peer, with a
-- unique text per request (thread number and a per-thread counter).
-- Environment: TOKEN (the sender's bearer token), PEER (the recipient's id).
-- wrk itself reports any response that is not 2xx ("Non-2xx or 3xx").
local token = os.getenv("TOKEN") or error("TOKEN is not set")
local peer = os.getenv("PEER") or error("PEER is not set")

local thread_counter = 0

function setup(thread)
  thread_counter = thread_counter + 1
  thread:set("tid", thread_counter)
end

function init(args)
  counter = 0
  headers = {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. token,
  }
  prefix = string.format('{"to":"%s","text":"bench t%d n', peer, tid)
end

function request()
  counter = counter + 1
  return wrk.format("POST", "/api/messages/send", headers, prefix .. counter .. '"}')
end
