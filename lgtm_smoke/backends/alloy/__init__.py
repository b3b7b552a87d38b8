"""Alloy, the stack's collector: its own metrics in Mimir and its own logs in Loki, fresh, under the suite's tenant."""
