"""Ray Serve: a router ingress in front of per-domain proxy model deployments (`raytool.serving.app`)."""
