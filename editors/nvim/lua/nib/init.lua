--- nib for Neovim 0.12+: the completion list (vim.lsp.completion) and inline ghost text
--- (vim.lsp.inline_completion) from nib's language server. See `:help nib`.
local M = {}

---@class nib.Keymaps
---@field accept string|false       accept the whole ghost text (falls back to the key itself)
---@field accept_line string|false  accept the ghost text up to its first line break
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
  -- nib's server settings (camelCase and nested, as in nib's README), generated from the
  -- server's settings by `nib settings --write`; sent at start and by set()
  settings = require('nib.settings'),
  keymaps = {
    accept = '<Tab>',
    accept_line = '<C-l>',
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

local function first_line(item)
  local text = type(item.insert_text) == 'string' and item.insert_text or item.insert_text.value
  local line = vim.split(text, '\n')[1]
  local range = item.range
  if not range then
    vim.api.nvim_paste(line, false, 0)
    return
  end
  vim.api.nvim_buf_set_text(0, range.start.row, range.start.col, range.end_.row, range.end_.col, { line })
  vim.api.nvim_win_set_cursor(0, { range.start.row + 1, range.start.col + #line })
end

local function map(bufnr, lhs, rhs, desc, opts)
  if lhs then
    vim.keymap.set('i', lhs, rhs, vim.tbl_extend('force', { buffer = bufnr, desc = desc }, opts or {}))
  end
end

local function attach(client, bufnr)
  if M.config.list then
    vim.lsp.completion.enable(true, client.id, bufnr, { autotrigger = M.config.autotrigger })
  end
  if not M.config.inline then
    return
  end
  vim.lsp.inline_completion.enable(true, { bufnr = bufnr })
  local k = M.config.keymaps
  map(bufnr, k.accept, function()
    if not vim.lsp.inline_completion.get() then
      return vim.keycode(k.accept)
    end
  end, 'nib: accept the ghost text', { expr = true })
  map(bufnr, k.accept_line, function()
    vim.lsp.inline_completion.get({ on_accept = first_line })
  end, 'nib: accept the ghost text up to its line break')
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
---@field model string        which model answered the last ghost text
---@field ms integer          in how long, in ms
---@field shown boolean       whether it had any
---@field definitions integer workspace files whose definitions its prompt showed (project context)
---@field chunks integer      chunks of recently opened or edited files its prompt showed

--- The server's last `nib/status`: nil before the first ghost text.
---@type nib.Status?
M.last = nil

--- A statusline component: `nib: MODEL 84 ms, context 2 files + 1 chunk`; `nib: ready` before
--- the first ghost text, `nib: off` without a server. E.g. `vim.o.statusline = "%f %{v:lua.require'nib'.status()}"`.
---@return string
function M.status()
  if not M.client() then
    return 'nib: off'
  end
  local s = M.last
  if not s then
    return 'nib: ready'
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
