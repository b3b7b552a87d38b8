"""The verdict of one run, read only from the checks' Outcomes (plus pytest's own report for
a test's assertion): the terminal table, Markdown, JSON (`report.py`), JUnit (pytest's, with
blocked checks as errors) and `--push-results` (`push.py`)."""
