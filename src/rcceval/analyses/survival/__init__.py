"""rcceval.analyses.survival."""
