"""Probe implementations, one module per backend. Importing this package registers them."""
from . import grafana, loki, mimir, security  # noqa: F401
