"""Ray Serve: a router ingress in front of per-domain proxy model deployments (issue 9, in progress)."""
