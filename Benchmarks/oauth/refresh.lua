-- wrk script: POST /token with grant_type=refresh_token, rotating: each answer's refresh token is sent next.
--   wrk -tC -cC ... -s refresh.lua URL -- REFRESH_FILE CLIENT_ID [TOKEN_PATH]
-- Run it with as many threads as connections: a wrk thread with one connection sends its next request only after the
-- previous answer is read, so each connection is one chain of rotations. Thread i (0-based) starts from line i+1 of
-- REFRESH_FILE (one refresh token per line). A refused refresh leaves the chain on a spent token, and every later
-- request of that connection is refused too: the run counts them as non-2xx answers and token.sh stops.
local next_id = 0

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
end

local function encode(text)
  return (text:gsub("[^%w%-%._~]", function(c) return string.format("%%%02X", string.byte(c)) end))
end

function init(args)
  if #args < 2 then
    error("usage: wrk ... -s refresh.lua URL -- REFRESH_FILE CLIENT_ID [TOKEN_PATH]")
  end
  local line_number = 0
  for line in io.lines(args[1]) do
    if line_number == id then token = line end
    line_number = line_number + 1
  end
  if not token then error("no refresh token for thread " .. id .. " in " .. args[1]) end
  client = "&client_id=" .. encode(args[2])
  path = args[3] or "/token"
  headers = { ["Content-Type"] = "application/x-www-form-urlencoded" }
end

function request()
  return wrk.format("POST", path, headers, "grant_type=refresh_token&refresh_token=" .. encode(token) .. client)
end

function response(status, headers, body)
  if status == 200 then
    local rotated = body:match('"refresh_token"%s*:%s*"([^"]+)"')
    if rotated then token = rotated end
  end
end
