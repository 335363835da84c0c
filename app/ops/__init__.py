"""Running the service: health and readiness, JSON request logs, Prometheus metrics."""
