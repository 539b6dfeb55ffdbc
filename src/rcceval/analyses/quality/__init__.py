"""rcceval.analyses.quality: question 0, is the data fit to use?"""
from rcceval.analyses.quality.result import QualityResult, fit

__all__ = ["QualityResult", "fit"]
