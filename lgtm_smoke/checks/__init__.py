"""Probe implementations, one module per backend. Importing this package registers them."""
from . import grafana, loki, mimir, pyroscope, security, tempo  # noqa: F401
