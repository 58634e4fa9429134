-- The scheduler's driver interface (tasks.set_driver), a task that cancels itself, and the
-- separate method table of tasks.
local venice = require "venice"
local core = require "venice.core"
local tasks = require "venice.tasks"
local mock = require "spec.helpers.mock"

describe("tasks.set_driver", function()
  after_each(function() tasks.set_driver(nil) end)

  it("routes every step, wait and completion through the driver", function()
    local steps, waits, deferred = 0, 0, 0
    local fast = false
    local previous = tasks.set_driver {
      step = function(ms) steps = steps + 1; return core.step(ms) end,
      on_wait = function() waits = waits + 1 end,
      in_fast = function() return fast end,
      defer = function(fn) deferred = deferred + 1; fn() end,
    }
    assert.is_table(previous)
    local c = venice.new { api_key = "k", base_url = mock.url(), max_retries = 0 }
    local task = venice.spawn(function() return c.models.list() end)
    venice.run()
    assert.is_table(task.results[1])
    assert.is_true(steps > 0)
    assert.is_true(waits > 0)
    assert.equal(0, deferred)
    -- a task finished from "inside a fast callback" reports through defer
    fast = true
    local t2 = venice.spawn(function() venice.sleep(10) end)
    local reported = false
    t2.on_done = function() reported = true end
    t2:cancel()
    assert.equal(1, deferred)
    assert.is_true(reported)
  end)

  it("fills left-out fields with the default's, refuses bad ones, and restores", function()
    local default = tasks.driver()
    local prev = tasks.set_driver { on_wait = function() end }
    assert.equal(default, prev)
    assert.is_function(tasks.driver().step)
    assert.is_function(tasks.driver().defer)
    assert.equal(default, tasks.set_driver(prev) and tasks.driver())
    assert.has_error(function() tasks.set_driver { stepp = function() end } end)
    assert.has_error(function() tasks.set_driver { step = 1 } end)
    assert.has_error(function() tasks.set_driver(42) end)
    tasks.set_driver(nil)
    assert.equal(default, tasks.driver())
  end)
end)

describe("a task that cancels itself", function()
  it("ends at that point: the code after cancel never runs", function()
    local after = false
    local task = venice.spawn(function()   -- runs at once, up to its first wait
      tasks.current():cancel()
      after = true
    end)
    assert.is_true(task:done())
    assert.is_false(after)
    local _, err = task:result()
    assert.equal("cancelled", err.code)
  end)

  it("also after a wait, and a request it would make is never sent", function()
    mock.reset()
    local c = venice.new { api_key = "k", base_url = mock.url(), max_retries = 0 }
    local after, reported, task = false, 0, nil
    task = venice.spawn(function()
      venice.sleep(0.01)
      task:cancel()
      after = true
      c.models.list()
    end)
    task.on_done = function() reported = reported + 1 end
    venice.run()
    assert.is_false(after)
    assert.equal(1, reported)
    assert.equal(0, #mock.requests("/models"))
    assert.is_false(task:cancel())   -- already done
  end)

  it("closes its to-be-closed variables (Lua 5.4)", function()
    if not rawget(coroutine, "close") then return end
    local closed = false
    local fn = load([[
      local current, mark = ...
      local guard <close> = setmetatable({}, { __close = function() mark() end })
      current():cancel()
    ]])
    local task = venice.spawn(fn, tasks.current, function() closed = true end)
    assert.is_true(task:done())
    assert.is_true(closed)
  end)
end)

describe("venice.Task", function()
  it("has a method table apart from its metatable", function()
    local task = venice.spawn(function() end)
    local mt = getmetatable(task)
    assert.equal("venice.Task", mt.__name)
    assert.not_equal(mt, mt.__index)
    for _, m in ipairs { "done", "result", "cancel" } do assert.is_function(mt.__index[m]) end
    assert.is_nil(task.__index)
    assert.is_nil(task.__name)
  end)
end)
