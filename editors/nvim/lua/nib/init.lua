--- nib for Neovim 0.12+: the completion list (vim.lsp.completion) and inline ghost text
--- (vim.lsp.inline_completion) from nib's language server. See `:help nib`.
local M = {}

---@class nib.Keymaps
---@field accept string|false       accept the whole ghost text (falls back to the key itself)
---@field accept_word string|false  accept the ghost text's next word
---@field accept_line string|false  accept the ghost text up to its first line break
---@field trigger string|false      ask for ghost text now (what `statement.trigger = 'manual'` waits for)
---@field dismiss string|false      hide the ghost text
---@field next string|false         next ghost-text candidate
---@field prev string|false         previous ghost-text candidate

---@class nib.Config
---@field cmd string[]?             the server command; nil: `nib serve` (or `python -I -m nib.server.cli serve` with `python`)
---@field python string?            a Python with nib installed, used when `cmd` is nil and `nib` is not on PATH
---@field filetypes string[]
---@field root_markers string[]
---@field list boolean              nib's items in the completion list
---@field autotrigger boolean       open the list on the server's trigger characters
---@field inline boolean            inline ghost text
---@field completeopt string|false  'completeopt' in nib's buffers (false: leave yours); the default selects and inserts nothing by itself
---@field rest_ms integer|false      in Insert mode, tell the server where the cursor rests once it has stayed this long (false: never)
---@field settings table            nib's server settings (camelCase, nested, as in nib's README); see lua/nib/settings.lua
---@field keymaps nib.Keymaps

---@type nib.Config
M.defaults = {
  cmd = nil,
  python = nil,
  filetypes = { 'python' },
  root_markers = { 'pyproject.toml', 'setup.py', 'setup.cfg', '.git' },
  list = true,
  autotrigger = true,
  inline = true,
  -- Neovim's default ("menu,popup") inserts the first item as the popup opens: typing on would
  -- write after it. In nib's buffers, nothing changes the text until an item is chosen.
  completeopt = 'menu,menuone,noselect,popup',
  -- the server gets the list's names and the ghost text's prompt ready where the cursor rests,
  -- before the first key there (a moved cursor's first ghost text is otherwise a whole prompt)
  rest_ms = 100,
  -- nib's server settings (camelCase and nested, as in nib's README), generated from the
  -- server's settings by `nib settings --write`; sent at start and by set()
  settings = require('nib.settings'),
  keymaps = {
    accept = '<Tab>',
    accept_word = '<M-Right>',
    accept_line = '<C-l>',
    trigger = '<M-\\>',
    dismiss = '<C-]>',
    next = '<M-]>',
    prev = '<M-[>',
  },
}

---@type nib.Config
M.config = vim.deepcopy(M.defaults)

--- The command that starts the server.
---@return string[]
function M.command()
  if M.config.cmd then
    return M.config.cmd
  end
  if M.config.python then
    -- -I: nothing on sys.path from the working directory, PYTHON* variables or the user's site
    return { M.config.python, '-I', '-m', 'nib.server.cli', 'serve' }
  end
  return { 'nib', 'serve' }
end

--- The server's working directory: nib's folder in Neovim's cache, never the project, whose
--- `json.py` or `nib/` a `python -m` started there would import and run.
---@return string
function M.cwd()
  local dir = vim.fs.joinpath(vim.fn.stdpath('cache'), 'nib')
  vim.fn.mkdir(dir, 'p')
  return dir
end

--- The running nib client, if any.
---@return vim.lsp.Client?
function M.client()
  return vim.lsp.get_clients({ name = 'nib' })[1]
end

--- Insert the first `chars` characters of a ghost-text item (its range replaced), and tell the
--- server how many were taken (the item's `nib.accepted` command, for `nib stats`).
---@param item vim.lsp.inline_completion.Item
---@param part fun(text: string): string  the part of the item's text to insert
local function accept_part(item, part)
  local text = type(item.insert_text) == 'string' and item.insert_text or item.insert_text.value
  local taken = part(text)
  local range = item.range
  if range then
    local lines = vim.split(taken, '\n')
    vim.api.nvim_buf_set_text(0, range.start.row, range.start.col, range.end_.row, range.end_.col, lines)
    local col = (#lines == 1 and range.start.col or 0) + #lines[#lines]
    vim.api.nvim_win_set_cursor(0, { range.start.row + #lines, col })
  else
    vim.api.nvim_paste(taken, false, 0)
  end
  local client = vim.lsp.get_client_by_id(item.client_id)
  if client and item.command then
    local command = vim.deepcopy(item.command)
    table.insert(command.arguments, vim.fn.strchars(taken))
    client:exec_cmd(command, { bufnr = 0 })
  end
end

--- The ghost text up to its first line break.
local function first_line(text)
  return vim.split(text, '\n')[1]
end

--- The ghost text up to the end of its next word after what is typed (the cursor's column
--- on the item's line): a run of word characters, or of other characters, with the blanks before it.
local function next_word(typed)
  return function(text)
    local rest = text:sub(typed + 1)
    local word = rest:match('^%s*[%w_]+') or rest:match('^%s*[^%w_%s]+') or rest:match('^%s+') or rest
    return text:sub(1, typed) .. word
  end
end

local function map(bufnr, lhs, rhs, desc, opts)
  if lhs then
    vim.keymap.set('i', lhs, rhs, vim.tbl_extend('force', { buffer = bufnr, desc = desc }, opts or {}))
  end
end

--- Ask for ghost text now, as a key the user pressed (LSP: triggerKind Invoked): what
--- `statement.trigger = 'manual'` answers. Neovim asks on its own as you type (Automatic).
function M.trigger()
  -- Neovim 0.12 asks with triggerKind Invoked only from its private Completor: reached with care
  local ok, capability = pcall(require, 'vim.lsp._capability')
  local completor = ok and vim.tbl_get(capability, 'all', 'inline_completion', 'active', vim.api.nvim_get_current_buf())
  if not completor then
    vim.notify('nib: no ghost text in this buffer', vim.log.levels.WARN)
    return
  end
  completor:request(vim.lsp.protocol.InlineCompletionTriggerKind.Invoked)
end

--- Whether nib is turned off in this buffer (`:Nib toggle`).
---@param bufnr integer?
function M.buffer_off(bufnr)
  return vim.b[bufnr or 0].nib_off == true
end

--- Turn nib off in the buffer, or on again: no list, no ghost text there (the server still sees
--- its edits, as it does every open buffer's). Settings' `exclude` does the same by file name.
---@param bufnr integer?
function M.toggle_buffer(bufnr)
  bufnr = bufnr == nil and vim.api.nvim_get_current_buf() or bufnr
  local on = M.buffer_off(bufnr)
  vim.b[bufnr].nib_off = not on
  local client = M.client()
  if client and M.config.list then
    vim.lsp.completion.enable(on, client.id, bufnr, { autotrigger = M.config.autotrigger })
  end
  if M.config.inline then
    vim.lsp.inline_completion.enable(on, { bufnr = bufnr })
  end
  vim.cmd.redrawstatus()
  vim.notify('nib ' .. (on and 'on' or 'off') .. ' in this buffer')
end

--- Tell the server where the cursor rests in Insert mode (`nib/cursor`, the position as LSP sends
--- it) once it has stayed `rest_ms` where Insert mode began or a move put it, not an edit: the
--- edit tells the server already. Normal mode sends nothing: moving about to read is not typing,
--- and its cursor sits on a character, not where `a` or `A` will insert.
---@param client vim.lsp.Client
---@param bufnr integer
local function follow_cursor(client, bufnr)
  local timer = assert(vim.uv.new_timer())
  local tick = vim.b[bufnr].changedtick
  local function moved()
    local now = vim.b[bufnr].changedtick
    local typed = now ~= tick -- a move made by an edit (also the first move after one that moved nothing)
    tick = now
    timer:stop()
    if typed or M.buffer_off(bufnr) or M.config.settings.enable == false or vim.fn.mode() ~= 'i' then
      return
    end
    timer:start(M.config.rest_ms, 0, vim.schedule_wrap(function()
      if not vim.api.nvim_buf_is_valid(bufnr) or client:is_stopped() or vim.fn.mode() ~= 'i' then
        return
      end
      local here = vim.api.nvim_get_current_buf() == bufnr and vim.b[bufnr].changedtick == tick -- still there
      if here and vim.lsp.buf_is_attached(bufnr, client.id) then
        client:notify('nib/cursor', vim.lsp.util.make_position_params(0, client.offset_encoding))
      end
    end))
  end
  -- one group per buffer and client: a client attached again (a restart) has its own timer
  local group = vim.api.nvim_create_augroup('nib.cursor.' .. bufnr .. '.' .. client.id, { clear = true })
  vim.api.nvim_create_autocmd({ 'InsertEnter', 'CursorMovedI' }, {
    group = group,
    buffer = bufnr,
    callback = function()
      vim.schedule(moved) -- InsertEnter comes before the mode is 'i'
    end,
  })
  vim.api.nvim_create_autocmd({ 'BufWipeout', 'LspDetach' }, {
    group = group,
    buffer = bufnr,
    callback = function(args)
      if args.event == 'LspDetach' and args.data.client_id ~= client.id then
        return
      end
      if not timer:is_closing() then
        timer:close()
      end
      pcall(vim.api.nvim_del_augroup_by_id, group)
    end,
  })
end

--- The item selected in the popup, resolved by the server (jedi's signature and docstring), shown
--- in the popup's info window ('completeopt' "popup"): |vim.lsp.completion| shows only what the list
--- sent, and nib's lists send no documentation. The request for an item no longer selected is cancelled.
---@param client vim.lsp.Client
---@param bufnr integer
local function describe_selected(client, bufnr)
  local asked -- the id of the selected item's resolve, while it is on its way
  local group = vim.api.nvim_create_augroup('nib.describe.' .. bufnr .. '.' .. client.id, { clear = true })
  local function cancel()
    if asked then
      client:cancel_request(asked)
      asked = nil
    end
  end
  vim.api.nvim_create_autocmd('CompleteChanged', {
    group = group,
    buffer = bufnr,
    callback = function()
      cancel()
      local lsp = vim.tbl_get(vim.v.event, 'completed_item', 'user_data', 'nvim', 'lsp') or {}
      local index = vim.fn.complete_info({ 'selected' }).selected
      local options = vim.bo[bufnr].completeopt ~= '' and vim.bo[bufnr].completeopt or vim.go.completeopt
      if lsp.client_id ~= client.id or type(lsp.completion_item) ~= 'table' or index < 0 then
        return
      elseif not options:find('popup') then
        return -- no info window to show it in
      end
      local ok, id
      ok, id = client:request('completionItem/resolve', lsp.completion_item, function(err, item)
        if id ~= asked then
          return -- the answer for an item selected before (its request was on its way back)
        end
        asked = nil
        local doc = item and item.documentation
        doc = type(doc) == 'table' and doc.value or doc
        local shown = vim.fn.complete_info({ 'selected', 'pum_visible' })
        if err or type(doc) ~= 'string' or doc == '' or shown.pum_visible == 0 or shown.selected ~= index then
          return
        end
        local info = item.detail and (item.detail .. '\n\n' .. doc) or doc
        pcall(vim.api.nvim__complete_set, index, { info = info }) -- experimental in 0.12: a change is no error
      end, bufnr)
      asked = ok and id or nil
    end,
  })
  vim.api.nvim_create_autocmd('CompleteDone', { group = group, buffer = bufnr, callback = cancel })
  vim.api.nvim_create_autocmd({ 'BufWipeout', 'LspDetach' }, {
    group = group,
    buffer = bufnr,
    callback = function(args)
      if args.event ~= 'LspDetach' or args.data.client_id == client.id then
        pcall(vim.api.nvim_del_augroup_by_id, group)
      end
    end,
  })
end

local function attach(client, bufnr)
  if M.config.completeopt then
    vim.bo[bufnr].completeopt = M.config.completeopt
  end
  if type(M.config.rest_ms) == 'number' and M.config.rest_ms > 0 then
    follow_cursor(client, bufnr)
  end
  local on = not M.buffer_off(bufnr) -- `:Nib toggle` turns it on later
  local provider = client.server_capabilities.completionProvider
  if M.config.list and provider then
    -- vim.lsp.completion shows an item's documentation only as the list sent it, and resolves the
    -- item only once it is accepted: it then drops the item's command (nib's count of accepts) when
    -- the buffer changed before the answer. Another completion plugin (list = false) still resolves.
    provider.resolveProvider = false
    describe_selected(client, bufnr)
  end
  if M.config.list and on then
    vim.lsp.completion.enable(true, client.id, bufnr, { autotrigger = M.config.autotrigger })
  end
  if not M.config.inline then
    return
  end
  if on then
    vim.lsp.inline_completion.enable(true, { bufnr = bufnr })
  end
  local k = M.config.keymaps
  map(bufnr, k.accept, function()
    if not vim.lsp.inline_completion.get() then
      return vim.keycode(k.accept)
    end
  end, 'nib: accept the ghost text', { expr = true })
  map(bufnr, k.accept_word, function()
    local typed = vim.api.nvim_win_get_cursor(0)[2]
    local taken = vim.lsp.inline_completion.get({
      on_accept = function(item)
        local start = item.range and item.range.start.col or typed
        accept_part(item, next_word(typed - start))
      end,
    })
    if not taken then
      return vim.keycode(k.accept_word)
    end
  end, "nib: accept the ghost text's next word", { expr = true })
  map(bufnr, k.accept_line, function()
    local taken = vim.lsp.inline_completion.get({
      on_accept = function(item)
        accept_part(item, first_line)
      end,
    })
    if not taken then
      return vim.keycode(k.accept_line)
    end
  end, 'nib: accept the ghost text up to its line break', { expr = true })
  map(bufnr, k.trigger, M.trigger, 'nib: ghost text now')
  map(bufnr, k.dismiss, function()
    vim.lsp.inline_completion.get({ on_accept = function() end }) -- hides it, inserts nothing
  end, 'nib: dismiss the ghost text')
  map(bufnr, k.next, function()
    vim.lsp.inline_completion.select({ count = 1 })
  end, 'nib: next candidate')
  map(bufnr, k.prev, function()
    vim.lsp.inline_completion.select({ count = -1 })
  end, 'nib: previous candidate')
end

---@class nib.Status
---@field uri string          the document it is about
---@field excluded boolean    the settings' `exclude` matches it: nib neither completes nor reads there
---@field model string        which model answered its last ghost text ('' for none yet)
---@field ms integer          in how long, in ms
---@field shown boolean       whether it had any
---@field definitions integer workspace files whose definitions its prompt showed (project context)
---@field chunks integer      chunks of recently opened or edited files its prompt showed

--- The server's last `nib/status` of each document, by URI.
---@type table<string, nib.Status>
M.statuses = {}

--- The server's last `nib/status` (any document): nil before the first.
---@type nib.Status?
M.last = nil

--- A statusline component for the current buffer: `nib: MODEL 84 ms, context 2 files + 1
--- chunks` after a ghost text; else `nib: ready`, `nib: manual` (ghost text when asked),
--- `nib: excluded` (the settings' `exclude`), `nib: off` (no server, or off here or everywhere).
--- E.g. `vim.o.statusline = "%f %{v:lua.require'nib'.status()}"`.
---@param bufnr integer? default: the current buffer
---@return string
function M.status(bufnr)
  bufnr = bufnr or vim.api.nvim_get_current_buf()
  local client = M.client()
  if not client or not vim.lsp.buf_is_attached(bufnr, client.id) or M.buffer_off(bufnr) or M.config.settings.enable == false then
    return 'nib: off'
  end
  local s = M.statuses[vim.uri_from_bufnr(bufnr)]
  if s and s.excluded then
    return 'nib: excluded'
  end
  if not s or s.model == '' then
    return (M.config.settings.statement or {}).trigger == 'manual' and 'nib: manual' or 'nib: ready'
  end
  local context = ''
  if s.definitions > 0 or s.chunks > 0 then
    context = string.format(', context %d files + %d chunks', s.definitions, s.chunks)
  end
  return string.format('nib: %s %d ms%s', s.model, s.ms, context)
end

--- Configure and enable nib. `opts` is deep-merged over `require('nib').defaults`.
---@param opts nib.Config?
function M.setup(opts)
  M.config = vim.tbl_deep_extend('force', vim.deepcopy(M.defaults), opts or {})
  vim.lsp.config('nib', {
    cmd = M.command(),
    cmd_cwd = M.cwd(),
    filetypes = M.config.filetypes,
    root_markers = M.config.root_markers,
    init_options = M.config.settings,
    settings = { nib = M.config.settings },
    handlers = {
      ['nib/status'] = function(_, result)
        M.last = result
        M.statuses[result.uri] = result
        vim.cmd.redrawstatus()
      end,
    },
  })
  vim.api.nvim_create_autocmd('LspAttach', {
    group = vim.api.nvim_create_augroup('nib.attach', { clear = true }),
    callback = function(args)
      local client = vim.lsp.get_client_by_id(args.data.client_id)
      if client and client.name == 'nib' then
        attach(client, args.buf)
      end
    end,
  })
  vim.lsp.enable('nib')
end

--- Change server settings at run time (merged over the current ones); no restart.
---@param settings table
function M.set(settings)
  M.config.settings = vim.tbl_deep_extend('force', M.config.settings, settings)
  local client = M.client()
  if client then
    client.settings = { nib = M.config.settings }
    client:notify('workspace/didChangeConfiguration', { settings = { nib = M.config.settings } })
  end
end

--- Restart the server (after changing `cmd`, or when it misbehaves).
function M.restart()
  local client = M.client()
  if client then
    client:stop(true)
  end
  vim.defer_fn(function()
    vim.lsp.enable('nib', false)
    vim.lsp.enable('nib')
  end, 500)
end

return M
