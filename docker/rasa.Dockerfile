# The Rasa server (Python 3.10, rasa==3.6.21 from requirements/rasa.lock.txt). It serves the
# model trained by `make model` (var/rasa-models/, the newest file is served) with the ONNX
# encoder it was trained with (var/onnx/), both baked in so every replica runs the same files.
FROM python:3.10-slim-bookworm

# PYTHONPATH=bot: custom components import as `components.*`, and bot/sitecustomize.py
# installs the measured Rasa fixes (bot/rasa_patches.py) at start, as crm_cli/stack.py does.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONPATH=/app/bot \
    TF_CPP_MIN_LOG_LEVEL=3 \
    RASA_TELEMETRY_ENABLED=false

WORKDIR /app/bot

COPY requirements/rasa.lock.txt /tmp/rasa.lock.txt
RUN pip install --upgrade pip setuptools wheel && pip install -r /tmp/rasa.lock.txt

COPY bot/ /app/bot/
COPY var/rasa-models/ /app/bot/models/
COPY var/onnx/ /app/var/onnx/
RUN useradd --system --uid 10001 --home /app rasa && chown -R rasa /app
USER rasa

EXPOSE 5005
# Shell form so the token comes from the environment at start, never from the image.
CMD rasa run --enable-api --auth-token "$RASA_AUTH_TOKEN" --model models \
    --endpoints endpoints.production.yml --credentials credentials.yml \
    --interface 0.0.0.0 --port 5005
