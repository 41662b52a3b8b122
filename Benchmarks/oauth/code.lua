-- wrk script: POST /token with grant_type=authorization_code, each code once.
--   wrk -tT -cC ... -s code.lua URL -- CODES_FILE THREADS CLIENT_ID REDIRECT_URI [TOKEN_PATH]
-- CODES_FILE holds one "code verifier" per line; thread i (0-based) of THREADS takes lines i+1, i+1+THREADS, … so no
-- code is sent twice. A thread that runs out sends code "exhausted", which the server refuses: the run counts it as a
-- non-2xx answer and token.sh stops, asking for more codes.
local next_id = 0

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
end

local function encode(text)
  return (text:gsub("[^%w%-%._~]", function(c) return string.format("%%%02X", string.byte(c)) end))
end

function init(args)
  if #args < 4 then
    error("usage: wrk ... -s code.lua URL -- CODES_FILE THREADS CLIENT_ID REDIRECT_URI [TOKEN_PATH]")
  end
  local threads = tonumber(args[2])
  local fixed = "&redirect_uri=" .. encode(args[4]) .. "&client_id=" .. encode(args[3])
  path = args[5] or "/token"
  bodies = {}
  local line_number = 0
  for line in io.lines(args[1]) do
    if line_number % threads == id then
      local code, verifier = line:match("^(%S+)%s+(%S+)$")
      bodies[#bodies + 1] = "grant_type=authorization_code&code=" .. encode(code) .. fixed .. "&code_verifier=" .. encode(verifier)
    end
    line_number = line_number + 1
  end
  exhausted = "grant_type=authorization_code&code=exhausted" .. fixed .. "&code_verifier=" .. string.rep("x", 43)
  position = 0
  headers = { ["Content-Type"] = "application/x-www-form-urlencoded" }
end

function request()
  position = position + 1
  return wrk.format("POST", path, headers, bodies[position] or exhausted)
end
