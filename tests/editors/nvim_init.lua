-- The test's Neovim: only nib's plugin, from this repository, with the server from the test's Python.
local root = vim.env.NIB_REPO
vim.opt.runtimepath:prepend(root .. '/editors/nvim')
vim.cmd('runtime plugin/nib.lua')
vim.opt.swapfile = false
require('nib').setup({
  python = vim.env.NIB_PYTHON,
  settings = { jedi = { budgetMs = 5000 } },
})
