# The main image (Python 3.11): API, action server, rules worker and the one-shot migration
# run from it with different commands (docker-compose.yml). Nothing here imports Rasa.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HF_HUB_OFFLINE=1 \
    PIP_NO_CACHE_DIR=1

WORKDIR /app

# torch first and exactly, like scripts/setup.sh: a CPU build keeps the image small when the
# builder's pip is pointed at a CPU wheel index (PIP_INDEX_URL / PIP_EXTRA_INDEX_URL build args).
ARG PIP_INDEX_URL
ARG PIP_EXTRA_INDEX_URL
RUN pip install torch==2.13.0

COPY requirements/main.lock.txt requirements/main.lock.txt
RUN pip install -r requirements/main.lock.txt

COPY pyproject.toml README.md LICENSE ./
COPY crm_store crm_store
COPY retrieval retrieval
COPY predict predict
COPY rules rules
COPY channels channels
COPY crm_cli crm_cli
COPY bot bot
COPY config config
COPY kb kb
RUN pip install --no-deps . && useradd --system --uid 10001 --home /app crm \
    && mkdir -p /app/var && chown crm /app/var
USER crm

EXPOSE 8000 5055
CMD ["uvicorn", "channels.app:create_app", "--factory", "--host", "0.0.0.0", "--port", "8000"]
