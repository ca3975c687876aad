# One otelcol-dockerlogs agent on every Nomad client that runs Docker (a system job), reading that node's engine.
#
#   nomad job run -var docker_gid=$(stat -c %g /var/run/docker.sock) \
#     -var endpoint=http://otelcol-gateway.service.consul:4318 deploy/nomad/otelcol-dockerlogs-agent.nomad.hcl
#
# The Docker driver must allow bind mounts of the socket (plugin "docker" { config { volumes { enabled = true } } }).
# The agent runs the configuration the image ships (collector-config.yaml) and sends OTLP to ${endpoint}/otlp:
# the gateway job (otelcol-dockerlogs-gateway.nomad.hcl) or the log store itself. See docs/deploy.md.

variable "image" {
  type    = string
  default = "otelcol-dockerlogs:dev"
}

variable "endpoint" {
  type        = string
  description = "LOKI_ENDPOINT of the agents: the gateway (http://HOST:4318) or the log store (http://loki:3100)"
}

variable "docker_gid" {
  type        = string
  description = "group of /var/run/docker.sock on the clients"
}

variable "containers_dir" {
  type        = string
  default     = "/var/lib/docker/containers"
  description = "the Docker daemon's <data-root>/containers on the clients"
}

job "otelcol-dockerlogs-agent" {
  type = "system"

  group "agent" {
    restart {
      attempts = 10
      interval = "5m"
      delay    = "5s"
      mode     = "delay"
    }

    task "otelcol" {
      driver = "docker"

      config {
        image = var.image
        args  = ["--config", "/etc/otelcol-dockerlogs/config.yaml", "--feature-gates=+extension.healthcheck.useComponentStatus"]
        # The node's engine, read-only; the image's user (10001) reads it through the socket's group.
        # The daemon's containers directory too, read-only: json-file logs read from their files (the image turns
        # log_files on), the API being the fallback. It is 0710 root:root with 0640 logs: group 0 reads them.
        volumes   = ["/var/run/docker.sock:/var/run/docker.sock:ro", "${var.containers_dir}:/var/lib/docker/containers:ro"]
        group_add = [var.docker_gid, "0"]
        # Positions and the export queue outlive the task: a named Docker volume on the node.
        mount {
          type   = "volume"
          source = "otelcol-dockerlogs-storage"
          target = "/var/lib/otelcol-dockerlogs"
        }
      }

      env {
        LOKI_ENDPOINT       = var.endpoint
        OTELCOL_LISTEN_HOST = "0.0.0.0"
      }

      resources {
        cpu    = 200
        memory = 256
      }
    }
  }
}
