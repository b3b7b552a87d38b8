# ---------------------------------------------------------------- ALB edge secret
# The backends' push and query paths at the ALB forward only requests whose
# X-LGTM-Edge-Secret header holds this secret (routes.json "edge_auth"; docs/infra.md,
# "edge control"). Terraform makes and rotates it: bump edge_secret_generation, apply
# 02-iam then 50-alb. Two slots take turns: a bump renews only the older slot, so the value
# clients hold until they re-read the secret stays accepted as "previous" for one rotation.
locals {
  edge_slots        = { a = floor(var.edge_secret_generation / 2), b = floor((var.edge_secret_generation + 1) / 2) }
  edge_current_slot = var.edge_secret_generation % 2 == 0 ? "a" : "b"
  edge_previous     = local.edge_current_slot == "a" ? "b" : "a"
}

resource "random_password" "edge" {
  for_each = local.edge_slots
  length   = 48
  special  = false
  keepers = {
    # slot a is renewed when the generation turns even, slot b when it turns odd
    generation = each.value
  }
}

resource "aws_secretsmanager_secret" "edge" {
  # checkov:skip=CKV_AWS_149:encrypted with the account's aws/secretsmanager key; no customer KMS key in this stack
  # checkov:skip=CKV2_AWS_57:rotated by Terraform (edge_secret_generation), which must change the ALB rules in the same run; a rotation Lambda could not
  name                    = "${var.name}/alb/edge-secret"
  description             = "Current ALB edge secret: clients send it as X-LGTM-Edge-Secret on every backend push and query."
  recovery_window_in_days = 7
}

# AWSCURRENT is always the current value; the smoke gate reads it at run time.
resource "aws_secretsmanager_secret_version" "edge" {
  secret_id     = aws_secretsmanager_secret.edge.id
  secret_string = random_password.edge[local.edge_current_slot].result
}
