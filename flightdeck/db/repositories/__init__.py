"""Repositories: every query lives here, one module per aggregate. They flush, never commit —
the caller (request dependency or activity) owns the transaction."""
