"""foldstack's benchmarks: scripts run by hand (never in CI) that print a table and write a CSV."""
