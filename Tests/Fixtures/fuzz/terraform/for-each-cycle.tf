resource "aws_security_group" "x" {
  for_each = aws_security_group.y
  name = "a"
}
resource "aws_security_group" "y" {
  for_each = aws_security_group.x
  name = "b"
}
