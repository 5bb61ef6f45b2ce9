"""The migration: its plan, the decisions, applying them, undoing them, and the run ledger."""
