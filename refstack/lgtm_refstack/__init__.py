"""The local reference stack (ALB stand-in + backends on loopback) and its faults."""
