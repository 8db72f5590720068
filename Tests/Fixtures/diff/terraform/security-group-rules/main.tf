# Security groups written by hand with aws_security_group_rule resources, variables and
# locals: exactly the flows of an installation whose external services have known addresses.

locals {
  components     = toset(["server", "drain", "scheduler", "worker"])
  backend_https  = concat(var.object_storage_cidrs, var.vcs_cidrs, var.registry_cidrs)
  infrastructure = { for cidr in var.infrastructure_cidrs : can(cidrnetmask(cidr)) ? "ipv4" : "ipv6" => cidr... }
  database_users = ["server", "drain", "scheduler"]
  lb_ports       = { https = 443, mqtt = 1984 }
}

resource "aws_security_group" "component" {
  for_each = local.components

  name        = "${var.name_prefix}-${each.key}"
  description = "Spacelift ${each.key}"
  vpc_id      = var.vpc_id
}

resource "aws_security_group" "lb" {
  name        = "${var.name_prefix}-lb"
  description = "Spacelift load balancer"
  vpc_id      = var.vpc_id
}

resource "aws_security_group" "database" {
  name        = format("%s-%s", var.name_prefix, "postgres")
  description = "Spacelift database"
  vpc_id      = var.vpc_id
}

resource "aws_security_group_rule" "lb_https" {
  type              = "ingress"
  security_group_id = aws_security_group.lb.id
  protocol          = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_blocks       = ["203.0.113.0/24"]
  description       = "clients-lb-https: users and webhooks"
}

resource "aws_security_group_rule" "lb_from_workers" {
  for_each = local.lb_ports

  type                     = "ingress"
  security_group_id        = aws_security_group.lb.id
  protocol                 = "tcp"
  from_port                = each.value
  to_port                  = each.value
  source_security_group_id = aws_security_group.component["worker"].id
}

resource "aws_security_group_rule" "lb_to_server" {
  for_each = toset(["1983", "1984"])

  type                     = "egress"
  security_group_id        = aws_security_group.lb.id
  protocol                 = "tcp"
  from_port                = each.key
  to_port                  = each.key
  source_security_group_id = aws_security_group.component["server"].id
}

resource "aws_security_group_rule" "server_from_lb" {
  for_each = toset(["1983", "1984"])

  type                     = "ingress"
  security_group_id        = aws_security_group.component["server"].id
  protocol                 = "tcp"
  from_port                = each.key
  to_port                  = each.key
  source_security_group_id = aws_security_group.lb.id
}

resource "aws_security_group_rule" "database_from_backend" {
  count = length(local.database_users)

  type                     = "ingress"
  security_group_id        = aws_security_group.database.id
  protocol                 = "tcp"
  from_port                = var.postgres_port
  to_port                  = var.postgres_port
  source_security_group_id = aws_security_group.component[local.database_users[count.index]].id
}

resource "aws_security_group_rule" "backend_to_database" {
  for_each = toset(local.database_users)

  type                     = "egress"
  security_group_id        = aws_security_group.component[each.key].id
  protocol                 = "tcp"
  from_port                = var.postgres_port
  to_port                  = var.postgres_port
  source_security_group_id = aws_security_group.database.id
}

resource "aws_security_group_rule" "backend_https" {
  for_each = toset(["server", "drain"])

  type              = "egress"
  security_group_id = aws_security_group.component[each.key].id
  protocol          = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_blocks       = local.backend_https
}

resource "aws_security_group_rule" "scheduler_registry" {
  type              = "egress"
  security_group_id = aws_security_group.component["scheduler"].id
  protocol          = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_blocks       = var.registry_cidrs
}

resource "aws_security_group_rule" "worker_https" {
  type              = "egress"
  security_group_id = aws_security_group.component["worker"].id
  protocol          = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_blocks       = concat(local.backend_https, local.infrastructure["ipv4"])
  ipv6_cidr_blocks  = local.infrastructure["ipv6"]
}

resource "aws_security_group_rule" "worker_to_lb" {
  for_each = local.lb_ports

  type                     = "egress"
  security_group_id        = aws_security_group.component["worker"].id
  protocol                 = "tcp"
  from_port                = each.value
  to_port                  = each.value
  source_security_group_id = aws_security_group.lb.id
}
