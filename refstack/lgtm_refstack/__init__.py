"""lgtm-refstack: the local reference stack the lgtm-smoke suite is proven against.

Real parts where they run here, stand-ins held to recorded contracts where they cannot:

  stack.py       ReferenceStack: starts everything on free 127.0.0.1 ports; faults switch live
  nginx.py       real nginx as the ALB, rendered from the effective listener rules of
                 infra/routes.json (read by lgtm_smoke.data.routes, the one reader both halves share)
  tls.py         the stack's own CA and server certificate (and an untrusted one for a fault)
  prometheus.py  real Prometheus, one per tenant, behind mimir.py's Mimir API and tenant rules
  processes.py   the real programs as child processes: ServiceStartError, stop (SIGTERM, then SIGKILL)
  loki.py, logql.py, tempo.py, pyroscope.py, grafana.py   stand-ins (../shared/contracts)
  admin.py       the real backends' admin/debug routes (data/admin-routes.json)
  alloy.py       a collector that sends what the shipped Alloy sends, over the internal path
  web.py         the stand-ins' HTTP layer on werkzeug
  faults.py      the named faults; plugin.py: --devstack/--fault for pytest; __main__.py: foreground
  aws/           the seeded moto account (the aws room's)

lgtm_smoke never imports this package; this package imports only lgtm_smoke.protocol (the wire
formats) and lgtm_smoke.data (the route table), both below everything else of lgtm_smoke.
"""
