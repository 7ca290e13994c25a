-- :Nib {toggle|on|off|trigger|status|restart}; the plugin does nothing else until require('nib').setup() is called.
local actions = {
  toggle = function()
    require('nib').toggle_buffer()
  end,
  on = function()
    require('nib').set({ enable = true })
    vim.notify('nib on')
  end,
  off = function()
    require('nib').set({ enable = false })
    vim.notify('nib off')
  end,
  trigger = function()
    require('nib').trigger()
  end,
  status = function()
    vim.notify(require('nib').status())
  end,
  restart = function()
    require('nib').restart()
  end,
}

vim.api.nvim_create_user_command('Nib', function(args)
  local action = actions[args.args]
  if not action then
    vim.notify('nib: :Nib ' .. table.concat(vim.tbl_keys(actions), '|'), vim.log.levels.ERROR)
    return
  end
  action()
end, {
  nargs = 1,
  complete = function()
    return vim.tbl_keys(actions)
  end,
  desc = 'nib: toggle (this buffer), on / off (everywhere), trigger (ghost text now), status, restart',
})

-- The names of nib 0.2.
vim.api.nvim_create_user_command('NibRestart', actions.restart, { desc = 'Restart the nib language server' })
vim.api.nvim_create_user_command('NibToggle', function()
  local settings = require('nib').config.settings
  actions[settings.enable == false and 'on' or 'off']()
end, { desc = 'Turn nib on or off everywhere' })
