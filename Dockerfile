# postwatch: a small image that runs `postwatch run` against the config mounted at /app/config.
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot ./bot
RUN python -m pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 POSTWATCH_CONFIG=/app/config/postwatch.yaml
RUN useradd --create-home --uid 10001 postwatch
COPY --from=build /wheels /wheels
RUN python -m pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
WORKDIR /app
COPY config ./config
RUN mkdir -p /app/data && chown postwatch /app/data
USER 10001
VOLUME ["/app/data"]
# Validate the config before starting so a bad file fails fast with its problems listed.
CMD ["sh", "-c", "postwatch check && exec postwatch run"]
