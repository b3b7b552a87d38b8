output "memcached_cluster_id" {
  description = "memcached cluster id"
  value       = module.memcached.cluster_id
}

output "memcached_endpoint" {
  description = "memcached endpoint"
  value       = module.memcached.configuration_endpoint
}
