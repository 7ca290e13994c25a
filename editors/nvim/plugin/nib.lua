-- :NibRestart, :NibToggle; the plugin does nothing else until require('nib').setup() is called.
vim.api.nvim_create_user_command('NibRestart', function()
  require('nib').restart()
end, { desc = 'Restart the nib language server' })

vim.api.nvim_create_user_command('NibToggle', function()
  local on = not vim.lsp.inline_completion.is_enabled({ bufnr = 0 })
  vim.lsp.inline_completion.enable(on, { bufnr = 0 })
  require('nib').set({ enable = on })
  vim.notify('nib ' .. (on and 'on' or 'off'))
end, { desc = 'Turn nib on or off' })
