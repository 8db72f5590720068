resource "aws_security_group" "lb" {
  name = "spacelift-lb"
  ingress {
    from_port   = [1][1e300]
    to_port     = 443
    protocol    = "tcp"
    cidr_blocks = ["10.0.0.0/8"]
  }
}
