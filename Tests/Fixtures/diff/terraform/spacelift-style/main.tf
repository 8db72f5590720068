# Security groups written by hand in the style of Spacelift's own Terraform for a self-hosted
# installation on ECS (terraform-aws-spacelift-selfhosted modules/network/security_groups.tf,
# terraform-aws-ecs-spacelift-selfhosted modules/lb/security.tf): one group per component,
# each with unrestricted egress, and ingress only where something connects. Spacelift's worker
# pool module creates no group (its examples use the VPC's default group, which allows all
# egress too); this one is written in the same style.

variable "vpc_id" {
  type    = string
  default = "vpc-0a1b2c3d4e5f60718"
}

variable "suffix" {
  type    = string
  default = "x7k2"
}

variable "mqtt_port" {
  type    = number
  default = 1984
}

locals {
  server_port   = 1983
  database_port = 5432
}

resource "aws_security_group" "server_sg" {
  name        = "server_sg_${var.suffix}"
  description = "The security group for the Spacelift HTTP server"
  vpc_id      = var.vpc_id

  egress {
    description = "Unrestricted egress"
    from_port   = 0
    to_port     = 0
    protocol    = "-1"
    cidr_blocks = ["0.0.0.0/0"]
  }
}

resource "aws_security_group" "drain_sg" {
  name        = "drain_sg_${var.suffix}"
  description = "The security group for the Spacelift async-processing service"
  vpc_id      = var.vpc_id

  egress {
    description = "Unrestricted egress"
    from_port   = 0
    to_port     = 0
    protocol    = "-1"
    cidr_blocks = ["0.0.0.0/0"]
  }
}

resource "aws_security_group" "scheduler_sg" {
  name        = "scheduler_sg_${var.suffix}"
  description = "The security group for the Spacelift scheduler service"
  vpc_id      = var.vpc_id

  egress {
    description = "Unrestricted egress"
    from_port   = 0
    to_port     = 0
    protocol    = "-1"
    cidr_blocks = ["0.0.0.0/0"]
  }
}

resource "aws_security_group" "worker_sg" {
  name        = "worker_sg_${var.suffix}"
  description = "The security group for the Spacelift worker pool"
  vpc_id      = var.vpc_id

  egress {
    description = "Unrestricted egress"
    from_port   = 0
    to_port     = 0
    protocol    = "-1"
    cidr_blocks = ["0.0.0.0/0"]
  }
}

resource "aws_security_group" "database_sg" {
  name        = "database_sg_${var.suffix}"
  description = "The security group defining what services can access the Spacelift database"
  vpc_id      = var.vpc_id

  ingress {
    description     = "Only accept TCP connections on appropriate port from the drain"
    from_port       = local.database_port
    to_port         = local.database_port
    protocol        = "tcp"
    security_groups = [aws_security_group.drain_sg.id]
  }

  ingress {
    description     = "Only accept TCP connections on appropriate port from the server"
    from_port       = local.database_port
    to_port         = local.database_port
    protocol        = "tcp"
    security_groups = [aws_security_group.server_sg.id]
  }

  ingress {
    description     = "Only accept TCP connections on appropriate port from the scheduler"
    from_port       = local.database_port
    to_port         = local.database_port
    protocol        = "tcp"
    security_groups = [aws_security_group.scheduler_sg.id]
  }
}

resource "aws_security_group" "load_balancer_sg" {
  name        = "load_balancer_sg_${var.suffix}"
  description = "Allow HTTP and HTTPS traffic to the load balancer"
  vpc_id      = var.vpc_id
}

resource "aws_vpc_security_group_ingress_rule" "load_balancer_https" {
  security_group_id = aws_security_group.load_balancer_sg.id
  description       = "Accept HTTP connections on port 443"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "0.0.0.0/0"
}

resource "aws_vpc_security_group_ingress_rule" "load_balancer_mqtt" {
  security_group_id = aws_security_group.load_balancer_sg.id
  description       = "Accept TLS connections on port ${var.mqtt_port} for built in MQTT server"
  ip_protocol       = "tcp"
  from_port         = var.mqtt_port
  to_port           = var.mqtt_port
  cidr_ipv4         = "0.0.0.0/0"
}

resource "aws_vpc_security_group_egress_rule" "load_balancer_to_server" {
  security_group_id            = aws_security_group.load_balancer_sg.id
  description                  = "Allow all traffic to the server"
  ip_protocol                  = "tcp"
  from_port                    = local.server_port
  to_port                      = local.server_port
  referenced_security_group_id = aws_security_group.server_sg.id
}

resource "aws_vpc_security_group_egress_rule" "load_balancer_to_server_mqtt" {
  security_group_id            = aws_security_group.load_balancer_sg.id
  description                  = "Allow all traffic to the server"
  ip_protocol                  = "tcp"
  from_port                    = var.mqtt_port
  to_port                      = var.mqtt_port
  referenced_security_group_id = aws_security_group.server_sg.id
}

resource "aws_vpc_security_group_ingress_rule" "server_from_load_balancer" {
  security_group_id            = aws_security_group.server_sg.id
  description                  = "Allow http connections from the load balancer"
  ip_protocol                  = "tcp"
  from_port                    = local.server_port
  to_port                      = local.server_port
  referenced_security_group_id = aws_security_group.load_balancer_sg.id
}

resource "aws_vpc_security_group_ingress_rule" "server_mqtt_from_load_balancer" {
  security_group_id            = aws_security_group.server_sg.id
  description                  = "Allow MQTT connections from the load balancer"
  ip_protocol                  = "tcp"
  from_port                    = var.mqtt_port
  to_port                      = var.mqtt_port
  referenced_security_group_id = aws_security_group.load_balancer_sg.id
}
