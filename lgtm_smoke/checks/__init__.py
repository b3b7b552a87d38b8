"""Probe implementations, one module per backend. Importing this package registers them."""
from . import loki, mimir  # noqa: F401
