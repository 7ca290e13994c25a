"""nib's engine: everything that knows tokens. Never imports the server."""
