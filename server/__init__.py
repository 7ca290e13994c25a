"""nib's language server: everything that knows LSP."""

__version__ = "0.2.0"
