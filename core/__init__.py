"""Infrastructure shared by every app: raw SQL helpers and the Redis connection. It imports no app,
so ingest, usage and issues can all use it without importing each other."""
