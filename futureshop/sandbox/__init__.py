"""A stateful fake of the futureshop API v2 on loopback, built on the sandbox kit (sync.sandbox).

`SandboxServer(Sandbox()).start()` in tests; `manage.py futureshop_sandbox` for a demo.
"""
