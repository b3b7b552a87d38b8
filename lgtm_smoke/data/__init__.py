"""The data tables lgtm-smoke ships (`options.json`, `fargate.json`, `routes.json`) and the one
reader of the table both halves share: `routes`, infra/routes.json as the suite and the
reference stack (lgtm_refstack) read it. Below every other room: it imports only the standard
library (import-linter holds it there), so either half may import it.
"""
