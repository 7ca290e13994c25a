"""The completion service: models loaded once per identity and shared (`hosts`), when work runs
(`scheduler`), and what one client asks of them (`service`). No LSP here: the server's sessions,
`nib complete` and the evaluators are its clients."""
