# The hub's one image: API, worker and scheduler differ only by command.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY hub ./hub
COPY auth ./auth
COPY connectors ./connectors
COPY schema ./schema
COPY migrations ./migrations
RUN pip install --no-cache-dir .
RUN useradd --system --uid 1000 hub
USER hub
EXPOSE 8000
CMD ["hub", "serve", "--host", "0.0.0.0", "--port", "8000"]
