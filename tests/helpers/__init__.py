"""What the tests share: factories, sample files, servers and small steps (no tests here)."""
