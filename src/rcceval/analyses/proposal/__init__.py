"""rcceval.analyses.proposal."""
