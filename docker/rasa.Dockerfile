# The Rasa server (Python 3.10, rasa==3.6.21 from requirements/rasa.lock.txt). It serves the
# model trained by `make model` (bot/models/) with the ONNX encoder it was trained with
# (var/onnx/), both baked in so every replica runs the same versioned files.
FROM python:3.10-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1

WORKDIR /app/bot

COPY requirements/rasa.lock.txt /tmp/rasa.lock.txt
RUN pip install --upgrade pip setuptools wheel && pip install -r /tmp/rasa.lock.txt

COPY bot/ /app/bot/
COPY var/onnx/ /app/var/onnx/
RUN useradd --system --uid 10001 --home /app rasa && chown -R rasa /app
USER rasa

EXPOSE 5005
# Shell form so the token comes from the environment at start, never from the image.
CMD rasa run --enable-api --auth-token "$RASA_AUTH_TOKEN" --model models \
    --endpoints endpoints.production.yml --credentials credentials.yml \
    --interface 0.0.0.0 --port 5005
