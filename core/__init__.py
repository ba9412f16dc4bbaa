"""What every app shares and that belongs to none of them: the error-code registry and the
error envelope (`core.errors`), and the API pieces every app's views use (`core.api`).

`core` imports no app; every app may import `core`.
"""
