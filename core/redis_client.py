from functools import lru_cache

from django.conf import settings


@lru_cache(maxsize=1)
def get_redis():
    """One connection pool per process for LightTrace's own Redis keys (buffer, quotas, outcomes)."""
    import redis

    return redis.Redis.from_url(settings.REDIS_URL, socket_keepalive=True, health_check_interval=30)
