# Security groups written by hand with aws_vpc_security_group_ingress_rule and
# aws_vpc_security_group_egress_rule, one rule per peer, from a map of rules in locals:
# exactly the flows of an installation whose external services have known addresses.

variable "environment" {
  type    = string
  default = "spacelift"
}

variable "ports" {
  type = object({ http = number, mqtt = number, postgres = number })
  default = {
    http     = 1983
    mqtt     = 1984
    postgres = 5432
  }
}

variable "addresses" {
  type = map(list(string))
  default = {
    clients        = ["203.0.113.0/24"]
    backend_https  = ["52.216.0.0/15", "140.82.112.0/20", "10.0.2.20/32"]
    scheduler      = ["10.0.2.20/32"]
    infrastructure = ["10.1.0.0/16", "2001:db8:2::/48"]
  }
}

locals {
  groups = {
    server    = "HTTP and the MQTT broker"
    drain     = "asynchronous jobs"
    scheduler = "cron jobs"
    worker    = "runs and tasks"
    lb        = "the public endpoint"
    postgres  = "the database"
  }

  # group, peer group or CIDR, port: every rule of the installation.
  between_groups = [
    { group = "lb", peer = "worker", port = 443, ingress = true },
    { group = "lb", peer = "worker", port = var.ports.mqtt, ingress = true },
    { group = "lb", peer = "server", port = var.ports.http, ingress = false },
    { group = "lb", peer = "server", port = var.ports.mqtt, ingress = false },
    { group = "server", peer = "lb", port = var.ports.http, ingress = true },
    { group = "server", peer = "lb", port = var.ports.mqtt, ingress = true },
    { group = "postgres", peer = "server", port = var.ports.postgres, ingress = true },
    { group = "postgres", peer = "drain", port = var.ports.postgres, ingress = true },
    { group = "postgres", peer = "scheduler", port = var.ports.postgres, ingress = true },
    { group = "server", peer = "postgres", port = var.ports.postgres, ingress = false },
    { group = "drain", peer = "postgres", port = var.ports.postgres, ingress = false },
    { group = "scheduler", peer = "postgres", port = var.ports.postgres, ingress = false },
    { group = "worker", peer = "lb", port = 443, ingress = false },
    { group = "worker", peer = "lb", port = var.ports.mqtt, ingress = false },
  ]
  to_networks = flatten([
    for group, list in {
      server    = var.addresses.backend_https
      drain     = var.addresses.backend_https
      scheduler = var.addresses.scheduler
      worker    = concat(var.addresses.backend_https, var.addresses.infrastructure)
    } : [for cidr in list : { group = group, cidr = cidr }]
  ])
}

resource "aws_security_group" "this" {
  for_each = local.groups

  name_prefix = "${var.environment}-${each.key}-"
  description = "Spacelift: ${each.value}"
}

resource "aws_vpc_security_group_ingress_rule" "groups" {
  for_each = { for rule in local.between_groups : "${rule.group}-from-${rule.peer}-${rule.port}" => rule if rule.ingress }

  security_group_id            = aws_security_group.this[each.value.group].id
  ip_protocol                  = "tcp"
  from_port                    = each.value.port
  to_port                      = each.value.port
  referenced_security_group_id = aws_security_group.this[each.value.peer].id
}

resource "aws_vpc_security_group_egress_rule" "groups" {
  for_each = { for rule in local.between_groups : "${rule.group}-to-${rule.peer}-${rule.port}" => rule if !rule.ingress }

  security_group_id            = aws_security_group.this[each.value.group].id
  ip_protocol                  = "tcp"
  from_port                    = each.value.port
  to_port                      = each.value.port
  referenced_security_group_id = aws_security_group.this[each.value.peer].id
}

resource "aws_vpc_security_group_ingress_rule" "clients" {
  for_each = toset(var.addresses.clients)

  security_group_id = aws_security_group.this["lb"].id
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = each.key
}

resource "aws_vpc_security_group_egress_rule" "networks" {
  for_each = { for rule in local.to_networks : "${rule.group} ${rule.cidr}" => rule }

  security_group_id = aws_security_group.this[each.value.group].id
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = strcontains(each.value.cidr, ":") ? null : each.value.cidr
  cidr_ipv6         = strcontains(each.value.cidr, ":") ? each.value.cidr : null
}
