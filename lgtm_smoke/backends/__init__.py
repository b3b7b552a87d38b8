"""Everything the suite knows about one backend, one folder each (client, checks, shipped test)."""
