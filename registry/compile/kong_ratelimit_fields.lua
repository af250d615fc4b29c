-- post-function header_filter of `agora export kong` (registry/compile/kong_ratelimit.py): the
-- structured fields of draft-ietf-httpapi-ratelimit-headers beside Kong's own rate-limiting headers,
-- as plugins/rate_limiting/handler.py sends them: one quota policy per limited period, named after it,
--   RateLimit-Policy: "minute";q=100;w=60, "day";q=1000;w=86400
--   RateLimit: "minute";r=42;t=17, "day";r=958;t=30017
-- read from X-RateLimit-Limit-<Period> and X-RateLimit-Remaining-<Period>, which Kong's rate-limiting
-- sets in the access phase (also on its 429). Windows are Kong's and the gateway's: fixed, aligned on
-- UTC, calendar months and years. Runs in Kong's sandbox (untrusted_lua = sandbox): ngx.time and
-- plain Lua only. The outer chunk runs once; the function it returns runs on every response.
local floor, max, concat, format, tonumber = math.floor, math.max, table.concat, string.format, tonumber
local PERIODS = { "second", "minute", "hour", "day", "month", "year" }
local FIXED = { second = 1, minute = 60, hour = 3600, day = 86400 }
local HEADER = { second = "Second", minute = "Minute", hour = "Hour", day = "Day", month = "Month", year = "Year" }

-- Days since 1970-01-01 of a proleptic Gregorian date, and back (H. Hinnant's civil algorithms).
local function days_from_civil(y, m, d)
  if m <= 2 then y = y - 1 end
  local era = floor(y / 400)
  local yoe = y - era * 400
  local doy = floor((153 * ((m + 9) % 12) + 2) / 5) + d - 1
  return era * 146097 + yoe * 365 + floor(yoe / 4) - floor(yoe / 100) + doy - 719468
end

local function civil_from_days(z)
  z = z + 719468
  local era = floor(z / 146097)
  local doe = z - era * 146097
  local yoe = floor((doe - floor(doe / 1460) + floor(doe / 36524) - floor(doe / 146096)) / 365)
  local doy = doe - (365 * yoe + floor(yoe / 4) - floor(yoe / 100))
  local mp = floor((5 * doy + 2) / 153)
  local m = mp < 10 and mp + 3 or mp - 9
  return yoe + era * 400 + (m <= 2 and 1 or 0), m
end

local function window(period, now)
  local size = FIXED[period]
  if size then
    local start = now - now % size
    return start, start + size
  end
  local y, m = civil_from_days(floor(now / 86400))
  if period == "year" then
    return days_from_civil(y, 1, 1) * 86400, days_from_civil(y + 1, 1, 1) * 86400
  end
  local ny, nm = y, m + 1
  if nm == 13 then ny, nm = y + 1, 1 end
  return days_from_civil(y, m, 1) * 86400, days_from_civil(ny, nm, 1) * 86400
end

return function()
  local get_header = kong.response.get_header
  local now = ngx.time()
  local policies, states = {}, {}
  for _, period in ipairs(PERIODS) do
    local limit = tonumber(get_header("X-RateLimit-Limit-" .. HEADER[period]))
    local remaining = tonumber(get_header("X-RateLimit-Remaining-" .. HEADER[period]))
    if limit and remaining then
      local start, finish = window(period, now)
      policies[#policies + 1] = format('"%s";q=%d;w=%d', period, limit, finish - start)
      states[#states + 1] = format('"%s";r=%d;t=%d', period, remaining, max(1, finish - now))
    end
  end
  if #policies > 0 then
    kong.response.set_header("RateLimit-Policy", concat(policies, ", "))
    kong.response.set_header("RateLimit", concat(states, ", "))
  end
end
