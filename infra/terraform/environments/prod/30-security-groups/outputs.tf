output "alb_security_group_id" {
  description = "alb security group id"
  value       = module.security_groups.alb_security_group_id
}

output "ecs_security_group_id" {
  description = "ecs security group id"
  value       = module.security_groups.ecs_security_group_id
}

output "memcached_security_group_id" {
  description = "memcached security group id"
  value       = module.security_groups.memcached_security_group_id
}
