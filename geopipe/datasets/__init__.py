"""Training datasets: time-block splits, balanced patches, sequence windows, statistics."""
