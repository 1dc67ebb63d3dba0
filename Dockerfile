# Flightdeck application image: one image, run as `flightdeck api`, `flightdeck worker`, …
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY flightdeck ./flightdeck
COPY examples ./examples
RUN pip install --no-cache-dir .
ENV FLIGHTDECK_ENVIRONMENT=production
ENTRYPOINT ["flightdeck"]
CMD ["api", "--host", "0.0.0.0"]
