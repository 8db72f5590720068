# What topogen cannot know from these files: a variable without default, a group found by a
# data source's filter, a name that depends on such a variable, a template directive and a
# function topogen does not evaluate. Each rule that depends on them is reported, never
# guessed; a data source that looks a group up by name is that group.

variable "admin_ports" {
  type = list(number)
}

variable "environment" {
  type = string
}

data "aws_security_group" "bastion" {
  name = "bastion"
}

data "aws_security_group" "monitoring" {
  filter {
    name   = "tag:role"
    values = ["monitoring"]
  }
}

resource "aws_security_group" "server" {
  name = "spacelift-server"

  dynamic "ingress" {
    for_each = var.admin_ports
    content {
      from_port       = ingress.value
      to_port         = ingress.value
      protocol        = "tcp"
      security_groups = [data.aws_security_group.bastion.id]
    }
  }

  egress {
    from_port   = 443
    to_port     = 443
    protocol    = "tcp"
    cidr_blocks = ["%{if var.environment == "prod"}10.0.0.0/8%{else}0.0.0.0/0%{endif}"]
  }
}

resource "aws_security_group" "drain" {
  name = "spacelift-drain"

  egress {
    from_port   = 443
    to_port     = 443
    protocol    = "tcp"
    cidr_blocks = [cidrsubnets("10.0.0.0/8", 8, 8)[0]]
  }
}

resource "aws_security_group" "worker" {
  name = "${var.environment}-worker"
}

resource "aws_security_group_rule" "worker_https" {
  type              = "egress"
  security_group_id = aws_security_group.worker.id
  protocol          = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_blocks       = ["0.0.0.0/0"]
}

resource "aws_vpc_security_group_egress_rule" "server_metrics" {
  security_group_id            = aws_security_group.server.id
  ip_protocol                  = "tcp"
  from_port                    = 4317
  to_port                      = 4317
  referenced_security_group_id = data.aws_security_group.monitoring.id
}

resource "aws_vpc_security_group_ingress_rule" "bastion_ssh" {
  security_group_id            = data.aws_security_group.bastion.id
  ip_protocol                  = "tcp"
  from_port                    = 22
  to_port                      = 22
  referenced_security_group_id = aws_security_group.server.id
}

resource "aws_vpc_security_group_ingress_rule" "monitoring_scrape" {
  security_group_id            = data.aws_security_group.monitoring.id
  ip_protocol                  = "tcp"
  from_port                    = 9100
  to_port                      = 9100
  referenced_security_group_id = aws_security_group.server.id
}
