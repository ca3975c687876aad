# The optional gateway tier for the agents of otelcol-dockerlogs-agent.nomad.hcl: receives their OTLP/HTTP on
# port 4318 (/otlp/v1/logs) and exports to the log store with the shipped exporter (disk queue, retries forever).
#
#   nomad job run -var loki_endpoint=http://loki.example:3100 deploy/nomad/otelcol-dockerlogs-gateway.nomad.hcl

variable "image" {
  type    = string
  default = "otelcol-dockerlogs:dev"
}

variable "loki_endpoint" {
  type = string
}

job "otelcol-dockerlogs-gateway" {
  type = "service"

  group "gateway" {
    count = 1

    network {
      port "otlp" {
        static = 4318
      }
    }

    service {
      name     = "otelcol-gateway"
      port     = "otlp"
      provider = "nomad"
    }

    task "otelcol" {
      driver = "docker"

      config {
        image = var.image
        args  = ["--config", "/etc/otelcol-dockerlogs/config.yaml", "--config", "/local/gateway.yaml"]
        ports = ["otlp"]
        mount {
          type   = "volume"
          source = "otelcol-dockerlogs-gateway-storage"
          target = "/var/lib/otelcol-dockerlogs"
        }
      }

      # The same overlay as deploy/swarm/gateway.yaml.
      template {
        destination = "local/gateway.yaml"
        data        = <<-EOT
          receivers:
            otlp:
              protocols:
                http:
                  endpoint: 0.0.0.0:4318
                  logs_url_path: /otlp/v1/logs
          service:
            pipelines:
              logs:
                receivers: [otlp]
        EOT
      }

      env {
        LOKI_ENDPOINT       = var.loki_endpoint
        OTELCOL_LISTEN_HOST = "0.0.0.0"
      }

      resources {
        cpu    = 500
        memory = 512
      }
    }
  }
}
