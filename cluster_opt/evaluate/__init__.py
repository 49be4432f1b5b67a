"""Scoring assignments: objective and constraint terms, lower bounds, batch evaluation."""

from cluster_opt.evaluate.config import EvaluationConfig, TermSetting
from cluster_opt.evaluate.evaluator import (
    Evaluation,
    EvaluationBatch,
    Evaluator,
    evaluate,
    evaluate_batch,
)
from cluster_opt.evaluate.problem import Problem
from cluster_opt.evaluate.terms import REGISTRY, Term, register

__all__ = [
    "REGISTRY",
    "Evaluation",
    "EvaluationBatch",
    "EvaluationConfig",
    "Evaluator",
    "Problem",
    "Term",
    "TermSetting",
    "evaluate",
    "evaluate_batch",
    "register",
]
