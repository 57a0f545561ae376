"""A stateful fake of eBay's OAuth, Sell Inventory v1 and Sell Fulfillment v1 on loopback,
built on the sandbox kit (sync.sandbox).

`SandboxServer(Sandbox()).start()` in tests; `manage.py ebay_sandbox` for a demo. What eBay's
pages leave open or contradict (../shared/platforms/EBAY.md) is a setting: see `state.CONFIG`.
"""
