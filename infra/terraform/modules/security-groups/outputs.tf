output "alb_security_group_id" {
  description = "ALB security group."
  value       = aws_security_group.alb.id
}

output "ecs_security_group_id" {
  description = "ECS tasks security group."
  value       = aws_security_group.ecs.id
}

output "memcached_security_group_id" {
  description = "Memcached security group."
  value       = aws_security_group.memcached.id
}
