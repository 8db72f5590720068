resource "aws_security_group" "lb" {
  name = "spacelift-lb"
  ingress {
    from_port   = length(substr("abc", 1, 9223372036854775807))
    to_port     = 443
    protocol    = "tcp"
    cidr_blocks = ["10.0.0.0/8"]
  }
}
