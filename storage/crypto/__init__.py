"""The vault: every key, seal and receipt of DESIGN §3 *Keys*.

Pure functions over bytes; no database, no settings. Read `primitives` first, then `keys`
(officer, queue, case and recovery keys), `receipts` and `notify`.
"""
