"""Stores for the CPython shell: the SQLite file (history, ledger, settings) and the key vault."""
