"""lgtm-smoke: post-deploy smoke tests for a Grafana LGTM stack behind one ALB."""
__version__ = "0.1.0"
