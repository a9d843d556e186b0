"""Infrastructure shared by every app: raw SQL helpers, the Redis connection, task dispatch and
heartbeats (the one model here). It imports no app, so ingest, usage and issues can all use it
without importing each other."""
