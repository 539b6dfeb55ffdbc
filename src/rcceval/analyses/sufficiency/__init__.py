"""rcceval.analyses.sufficiency: question 5, where do needs outrun provision?"""
from rcceval.analyses.sufficiency.result import SufficiencyResult, fit

__all__ = ["SufficiencyResult", "fit"]
