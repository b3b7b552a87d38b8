"""The shipped smoke suite: `pytest -m smoke --alb $ALB_DNS` runs these files.

Each test names one thing a user relies on; its docstring is the runbook line: what
was proved, and where to look when it fails (docs/runbook.md has the long form).
"""
