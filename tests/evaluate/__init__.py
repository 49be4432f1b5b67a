"""Tests of cluster_opt.evaluate: reference checker, unit tables, properties, conformance."""
