"""Everything that works without Qt: discovery, the store contract, planning, migration, undo, backups.

The CLI imports only this package, which keeps its start fast; ruff's banned-api rule keeps Qt out.
"""
