"""Tests of cluster_opt.plan (the planner) and cluster_opt.validate_plan (its checker)."""
