--- `:checkhealth nib`: the server command, nib's version, the model it loads, and how it is set up.
local M = {}

function M.check()
  local nib = require('nib')
  vim.health.start('nib')
  if vim.fn.has('nvim-0.12') == 0 then
    vim.health.error('Neovim 0.12 or newer is needed (vim.lsp.inline_completion)')
  else
    vim.health.ok('Neovim ' .. tostring(vim.version()))
  end
  local cmd = nib.command()
  if vim.fn.executable(cmd[1]) == 0 then
    vim.health.error('server command not found: ' .. cmd[1], {
      'pip install nib (see its README), or set `cmd` or `python` in require("nib").setup()',
    })
    return
  end
  vim.health.ok('server command: ' .. table.concat(cmd, ' ') .. ' (in ' .. nib.cwd() .. ')')
  -- `nib info` from the same installation as the server command
  local info_cmd = vim.list_slice(cmd, 1, #cmd - 1)
  table.insert(info_cmd, 'info')
  table.insert(info_cmd, '--json')
  local done = vim.system(info_cmd, { text = true, cwd = nib.cwd() }):wait(30000)
  local ok, info = pcall(vim.json.decode, done.stdout or '')
  if not ok or type(info) ~= 'table' then
    vim.health.error('`' .. table.concat(info_cmd, ' ') .. '` failed: ' .. (done.stderr or ''))
    return
  end
  vim.health.ok('nib ' .. info.version .. ' (' .. info.python .. ')')
  if info.ok then
    vim.health.ok(string.format('model %s: %d parameters, %d-token vocabulary, %d tokens of context, %.1f MB',
      info.model, info.parameters, info.vocabulary, info.context, info.model_bytes / 1e6))
  else
    vim.health.error(info.error)
  end
  local client = nib.client()
  if client then
    vim.health.ok('server running (client id ' .. client.id .. ')')
  else
    vim.health.info('no nib server running yet: open a Python file')
  end
  local settings = nib.config.settings
  local statement = settings.statement or {}
  vim.health.info('ghost text: ' .. (statement.trigger == 'manual' and 'when asked (keymaps.trigger: '
    .. tostring(nib.config.keymaps.trigger) .. ')' or 'as you type') .. ', lines ' .. tostring(statement.lines))
  vim.health.info('excluded files (settings.exclude): ' .. table.concat(settings.exclude or {}, ', '))
  vim.health.info('acceptance statistics (`nib stats`): ' .. ((settings.stats or {}).enable == false and 'off' or 'on'))
end

return M
