-- wrk script: each thread is one shopper on one connection, in a loop: add a product to the cart,
-- check out (a new Idempotency-Key each time). Counts completed checkouts for the benchmark.
local threads = {}
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
  table.insert(threads, thread)
end

function init(args)
  token = nil
  step = "session"
  checkouts = 0
  failures = 0
  n = 0
end

local address = '{"name":"Bench Shopper","street":"1 Main St","city":"Springfield","postal_code":"12345","country":"US"}'
local card = '{"number":"4111111111111111","expiry_month":12,"expiry_year":2099,"cvv":"123"}'

function request()
  if step == "session" then
    return wrk.format("POST", "/api/v1/session", {["Content-Type"] = "application/json"},
      '{"name":"bench-' .. id .. '"}')
  end
  local headers = {["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. token}
  if step == "add" then
    return wrk.format("POST", "/api/v1/cart/items", headers, '{"product_id":"chef-knife","quantity":1}')
  end
  n = n + 1
  headers["Idempotency-Key"] = "bench-" .. id .. "-" .. n
  return wrk.format("POST", "/api/v1/checkout", headers,
    '{"shipping_address":' .. address .. ',"card":' .. card .. '}')
end

function response(status, headers, body)
  if step == "session" then
    token = body:match('"token"%s*:%s*"([^"]+)"')
    if token then step = "add" else failures = failures + 1 end
  elseif step == "add" then
    if status == 200 then step = "checkout" else failures = failures + 1 end
  else
    if status == 201 then checkouts = checkouts + 1 else failures = failures + 1 end
    step = "add"
  end
end

function done(summary, latency, requests)
  local total, failed = 0, 0
  for _, thread in ipairs(threads) do
    total = total + thread:get("checkouts")
    failed = failed + thread:get("failures")
  end
  io.write(string.format("checkouts: %d\nfailed: %d\n", total, failed))
end
