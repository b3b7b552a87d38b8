"""Static preflight checks over infra/ (no AWS, no network).

The checks live in ``infra.preflight.checks``; run them all with
``python -m infra.preflight.checks`` or through ``pytest -m preflight tests/preflight``.
"""
