output "cluster_id" {
  description = "Cluster id."
  value       = aws_elasticache_cluster.this.cluster_id
}

output "configuration_endpoint" {
  description = "host:port of the cluster's configuration endpoint; MEMCACHED_ENDPOINT of the backends."
  value       = aws_elasticache_cluster.this.configuration_endpoint
}
