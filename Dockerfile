# One image for web, worker and scheduler. Migrations are an explicit command:
#   docker run IMAGE python manage.py migrate
#   docker run IMAGE                      # web (granian)
#   docker run IMAGE celery -A config worker
#   docker run IMAGE celery -A config beat --schedule /data/celerybeat-schedule
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 DATA_DIR=/data PORT=8000 HOST=0.0.0.0
WORKDIR /app

RUN useradd --system --uid 10001 --home-dir /app lighttrace && mkdir -p /data && chown lighttrace /data

COPY pyproject.toml ./
COPY config ./config
COPY accounts ./accounts
COPY projects ./projects
COPY issues ./issues
COPY alerts ./alerts
COPY ingest ./ingest
RUN pip install --no-cache-dir .
COPY manage.py ./
COPY templates ./templates

USER lighttrace
EXPOSE 8000
VOLUME ["/data"]
CMD ["sh", "-c", "exec granian --interface wsgi config.wsgi:application --host ${HOST} --port ${PORT} --workers ${WEB_WORKERS:-2} --blocking-threads ${WEB_THREADS:-4} --no-ws --respawn-failed-workers"]
