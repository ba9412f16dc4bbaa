"""The production settings with Django's own psycopg pool in each process (Django 5.1+
`OPTIONS["pool"]`) instead of persistent connections: bench/cluster/balance.py's
`psycopg-pool` row. Pooling needs CONN_MAX_AGE 0 (each request takes a connection from the
process's pool and gives it back); a pooled connection keeps its prepared statements."""

from config.settings.production import *  # noqa: F403

# DATABASES comes from production.py's databases() (set through globals())
for _db in globals()["DATABASES"].values():
    _db["CONN_MAX_AGE"] = 0
    _db["OPTIONS"]["pool"] = {"min_size": 1, "max_size": 2, "timeout": 10}
