output "vpc_id" {
  description = "vpc id"
  value       = module.vpc.vpc_id
}

output "vpc_cidr" {
  description = "vpc cidr"
  value       = module.vpc.vpc_cidr
}

output "public_subnet_ids" {
  description = "public subnet ids"
  value       = module.vpc.public_subnet_ids
}

output "private_subnet_ids" {
  description = "private subnet ids"
  value       = module.vpc.private_subnet_ids
}
