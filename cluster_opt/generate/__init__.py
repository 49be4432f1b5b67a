"""Realistic synthetic cluster snapshots."""

from cluster_opt.generate.generator import GeneratorSettings, generate

__all__ = ["GeneratorSettings", "generate"]
