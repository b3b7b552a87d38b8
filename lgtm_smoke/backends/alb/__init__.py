"""The ALB: listener rules evaluated as the ALB does, the exposure catalogue, TLS and edge auth."""
