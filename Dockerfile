# One image for web, worker and scheduler. Migrations are an explicit command:
#   docker run IMAGE lighttrace migrate          (or: python manage.py migrate)
#   docker run IMAGE                             # web (granian)
#   docker run IMAGE celery -A config worker
#   docker run IMAGE celery -A config beat --schedule /data/celerybeat-schedule
# The image installs the same wheel that CI builds and runs from outside the checkout
# (scripts/check-wheel.sh): every package pyproject.toml finds goes in, with no list here to forget one.

FROM python:3.11-slim AS build
WORKDIR /src
COPY . .
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels .

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 DATA_DIR=/data PORT=8000 HOST=0.0.0.0
# As `manage.py serve` does: glibc arenas capped, and granian's jemalloc returns freed pages at once
# (large or hostile request bodies would otherwise stay resident).
ENV MALLOC_ARENA_MAX=2 _RJEM_MALLOC_CONF=dirty_decay_ms:0,muzzy_decay_ms:0
WORKDIR /app
RUN useradd --system --uid 10001 --home-dir /app lighttrace && mkdir -p /data && chown lighttrace /data
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
# `python manage.py ...` keeps working in the image, as in a checkout.
COPY manage.py ./

USER lighttrace
EXPOSE 8000
VOLUME ["/data"]
# The web process exactly as `manage.py serve` starts it (granian's RSGI interface with the web front's
# timeouts and limits, config/front.py), under the same supervisor.
CMD ["lighttrace", "serve", "--only", "web"]
