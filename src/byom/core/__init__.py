"""The byom core: standard library only, no I/O. Runs unchanged under CPython and Pyodide.

Everything security- or money-critical lives here and is deterministic: the secret type,
features and categories, the catalog and prices, estimation, the budget ledger, the call path,
usage and cost, errors and events. Shells supply transports and stores.
"""
