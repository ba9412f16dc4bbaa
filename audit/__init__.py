"""The audit trail (who changed what, when, from where: history tables filled by
PostgreSQL triggers), the personal-data access log, and the retention purges."""
