variable "name_prefix" {
  description = "Groups are named <name_prefix>-<node>."
  type        = string
  default     = "spacelift"
}

variable "vpc_id" {
  type    = string
  default = "vpc-0123456789abcdef0"
}

variable "postgres_port" {
  type    = number
  default = 5432
}

variable "object_storage_cidrs" {
  type    = list(string)
  default = ["52.216.0.0/15"]
}

variable "vcs_cidrs" {
  type    = list(string)
  default = ["140.82.112.0/20"]
}

variable "registry_cidrs" {
  type    = list(string)
  default = ["10.0.2.20/32"]
}

variable "infrastructure_cidrs" {
  type    = list(string)
  default = ["10.1.0.0/16", "2001:db8:2::/48"]
}
