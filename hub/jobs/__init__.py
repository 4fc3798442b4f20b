"""Background jobs (dramatiq): the reply outbox, channel syncs, the scheduler and the worker."""
