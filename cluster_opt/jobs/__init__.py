"""Operator jobs: nightly rebalance (and its periodic mode), on-demand migration planning
and parameter sweeps, with typed YAML configs and one output folder per run."""
