"""What the Prefect flows in ``flows/`` call: the reusable parts of orchestration.

The flows stay thin (a few tasks each, no SQL); everything they do lives here or in SQL functions:
``retry`` (which failures a task retries), ``locks`` (one run of a job at a time), ``dbtbuild`` (dbt's
programmatic runner with per-node results), ``maintenance`` (compression check, retention audit,
aggregate refresh, the audit log), ``inbox`` (the watched folder of the ingest flow), ``schedules`` (the
one table of deployments and their schedules) and ``serve`` (`megatron serve`: a local Prefect server and
every deployment in one process).
"""
