"""The benchmark harness: a realistic district history, and the hub measured against baselines on it."""
