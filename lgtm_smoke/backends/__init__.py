"""One folder per backend (mimir, loki, tempo, pyroscope, grafana; alb and alloy likewise): its wire-format
client (`client.py`), every check that touches it (`checks.py`: round trip, tenant
isolation, missing tenant, garbage ingest, read via Grafana's datasource proxy) and the
shipped runbook test file (`test_<backend>.py`). Cross-cutting aspects are kinds of check
each backend provides, selected by markers: `security` (isolation, missing tenant,
garbage; shared shapes in `security.py`) and `grafana` (datasource and proxy read; the
Grafana API in `grafana/client.py`)."""
