"""The optional keyring snapshot: the backend, the copy and its chunks, and its ledger."""
