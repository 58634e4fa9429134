-- Byte codecs for the local server, in plain arithmetic so that they run on
-- Lua 5.1 to 5.4 alike: base64, little-endian float32, CRC-32 and a gzip
-- member made of stored (uncompressed) deflate blocks.

local M = {}

local floor, char, byte = math.floor, string.char, string.byte

-- {==== base64

local B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
local b64chars = {}
for i = 1, 64 do b64chars[i - 1] = B64:sub(i, i) end

function M.base64(s)
  local out = {}
  for i = 1, #s, 3 do
    local a, b, c = byte(s, i, i + 2)
    local n = a * 65536 + (b or 0) * 256 + (c or 0)
    local c1 = floor(n / 262144)
    local c2 = floor(n / 4096) % 64
    local c3 = floor(n / 64) % 64
    local c4 = n % 64
    out[#out + 1] = b64chars[c1] .. b64chars[c2]
      .. (b and b64chars[c3] or "=") .. (c and b64chars[c4] or "=")
  end
  return table.concat(out)
end

-- ====}

-- {==== float32

local function u32le(n)
  n = n % 4294967296
  return char(n % 256, floor(n / 256) % 256, floor(n / 65536) % 256, floor(n / 16777216) % 256)
end
M.u32le = u32le

-- IEEE 754 single precision, little-endian.
local pack_float
local string_pack, frexp = rawget(string, "pack"), rawget(math, "frexp")
if string_pack then
  pack_float = function(x) return string_pack("<f", x) end
else
  pack_float = function(x)
    if x ~= x then return u32le(0x7FC00000) end
    local sign = 0
    if x < 0 or (x == 0 and 1 / x < 0) then sign = 0x80000000; x = -x end
    if x == math.huge then return u32le(sign + 0x7F800000) end
    if x == 0 then return u32le(sign) end
    local m, e = frexp(x)          -- x = m * 2^e, 0.5 <= m < 1
    e = e + 126                          -- biased exponent of 1.f * 2^(e-1)
    local bits
    if e <= 0 then                       -- subnormal
      bits = floor(x / 2 ^ -149 + 0.5)
    else
      local frac = floor((m * 2 - 1) * 8388608 + 0.5)
      if frac >= 8388608 then frac = 0; e = e + 1 end
      if e >= 255 then return u32le(sign + 0x7F800000) end
      bits = e * 8388608 + frac
    end
    return u32le(sign + bits)
  end
end

function M.float32le(list)
  local out = {}
  for i = 1, #list do out[i] = pack_float(list[i]) end
  return table.concat(out)
end

-- ====}

-- {==== CRC-32 and gzip

-- xor of two values below 2^32, four bits at a time
local xor4
local function bxor(a, b)
  local r, p = 0, 1
  while a > 0 or b > 0 do
    local x, y = a % 16, b % 16
    r = r + xor4[x * 16 + y] * p
    a = (a - x) / 16
    b = (b - y) / 16
    p = p * 16
  end
  return r
end

local crc_table
local function init_crc()
  xor4 = {}
  for x = 0, 15 do
    for y = 0, 15 do
      local r, p, a, b = 0, 1, x, y
      for _ = 1, 4 do
        if a % 2 ~= b % 2 then r = r + p end
        a, b, p = floor(a / 2), floor(b / 2), p * 2
      end
      xor4[x * 16 + y] = r
    end
  end
  crc_table = {}
  for i = 0, 255 do
    local c = i
    for _ = 1, 8 do
      if c % 2 == 1 then
        c = bxor(floor(c / 2), 0xEDB88320)
      else
        c = floor(c / 2)
      end
    end
    crc_table[i] = c
  end
end

function M.crc32(s)
  if not crc_table then init_crc() end
  local crc = 0xFFFFFFFF
  for i = 1, #s do
    local idx = bxor(crc % 256, byte(s, i))
    crc = bxor(crc_table[idx], floor(crc / 256))
  end
  return bxor(crc, 0xFFFFFFFF)
end

-- A valid gzip member holding s in stored blocks (no compression).
function M.gzip(s)
  local out = { "\31\139\8\0\0\0\0\0\0\255" }
  local n = #s
  local pos = 1
  repeat
    local len = math.min(65535, n - pos + 1)
    local final = (pos + len > n) and 1 or 0
    local nlen = 65535 - len
    out[#out + 1] = char(final, len % 256, floor(len / 256), nlen % 256, floor(nlen / 256))
    out[#out + 1] = s:sub(pos, pos + len - 1)
    pos = pos + len
  until pos > n
  out[#out + 1] = u32le(M.crc32(s))
  out[#out + 1] = u32le(n)
  return table.concat(out)
end

-- ====}

return M
