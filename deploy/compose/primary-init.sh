#!/bin/bash
# Let the streaming replica connect (password-checked, inside the compose network).
set -e
echo "host replication xinyou all scram-sha-256" >> "$PGDATA/pg_hba.conf"
