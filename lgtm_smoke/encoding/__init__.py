"""Wire formats the smoke suite speaks (and the reference stack decodes)."""
