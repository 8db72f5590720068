locals {
  a0 = {x = local.a1, y = local.a1}
  a1 = {x = local.a2, y = local.a2}
  a2 = {x = local.a3, y = local.a3}
  a3 = {x = local.a4, y = local.a4}
  a4 = {x = local.a5, y = local.a5}
  a5 = {x = local.a6, y = local.a6}
  a6 = {x = local.a7, y = local.a7}
  a7 = {x = local.a8, y = local.a8}
  a8 = {x = local.a9, y = local.a9}
  a9 = {x = local.a10, y = local.a10}
  a10 = {x = local.a11, y = local.a11}
  a11 = {x = local.a12, y = local.a12}
  a12 = {x = local.a13, y = local.a13}
  a13 = {x = local.a14, y = local.a14}
  a14 = {x = local.a15, y = local.a15}
  a15 = {x = local.a16, y = local.a16}
  a16 = {x = local.a17, y = local.a17}
  a17 = {x = local.a18, y = local.a18}
  a18 = {x = local.a19, y = local.a19}
  a19 = {x = local.a20, y = local.a20}
  a20 = {x = local.a21, y = local.a21}
  a21 = {x = local.a22, y = local.a22}
  a22 = {x = local.a23, y = local.a23}
  a23 = {x = local.a24, y = local.a24}
  a24 = {x = local.a25, y = local.a25}
  a25 = {x = local.a26, y = local.a26}
  a26 = {x = local.a27, y = local.a27}
  a27 = {x = local.a28, y = local.a28}
  a28 = {x = local.a29, y = local.a29}
  a29 = {x = local.a30, y = local.a30}
  a30 = {x = local.a31, y = local.a31}
  a31 = {x = local.a32, y = local.a32}
  a32 = {x = local.a33, y = local.a33}
  a33 = {x = local.a34, y = local.a34}
  a34 = {x = local.a35, y = local.a35}
  a35 = {x = local.a36, y = local.a36}
  a36 = {x = local.a37, y = local.a37}
  a37 = {x = local.a38, y = local.a38}
  a38 = {x = local.a39, y = local.a39}
  a39 = {x = local.a40, y = local.a40}
  a40 = {x = local.a41, y = local.a41}
  a41 = {x = local.a42, y = local.a42}
  a42 = {x = local.a43, y = local.a43}
  a43 = {x = local.a44, y = local.a44}
  a44 = {x = local.a45, y = local.a45}
  a45 = {x = local.a46, y = local.a46}
  a46 = {x = local.a47, y = local.a47}
  a47 = {x = local.a48, y = local.a48}
  a48 = {x = local.a49, y = local.a49}
  a49 = {x = local.a50, y = local.a50}
  a50 = {x = local.a51, y = local.a51}
  a51 = {x = local.a52, y = local.a52}
  a52 = {x = local.a53, y = local.a53}
  a53 = {x = local.a54, y = local.a54}
  a54 = {x = local.a55, y = local.a55}
  a55 = {x = local.a56, y = local.a56}
  a56 = {x = local.a57, y = local.a57}
  a57 = {x = local.a58, y = local.a58}
  a58 = {x = local.a59, y = local.a59}
  a59 = {x = local.a60, y = local.a60}
  a60 = "10.0.0.0/8"
}
resource "aws_security_group" "lb" {
  name = "spacelift-lb"
  ingress {
    from_port   = local.a0 == local.a0 ? 1 : 2
    to_port     = 443
    protocol    = "tcp"
    cidr_blocks = ["10.0.0.0/8"]
  }
}
