# Kengele gateway: `kengele serve` on 0.0.0.0:8000 as a non-root user.
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md alembic.ini ./
COPY app ./app
COPY migrations ./migrations
RUN pip install --no-cache-dir --prefix=/install .

FROM python:3.11-slim
ENV PYTHONUNBUFFERED=1 \
    KENGELE_DATA_DIR=/data
COPY --from=build /install /usr/local
RUN useradd --system --uid 10001 --home-dir /data --create-home kengele
USER kengele
WORKDIR /data
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4).status == 200 else 1)"
CMD ["kengele", "serve", "--host", "0.0.0.0", "--port", "8000"]
