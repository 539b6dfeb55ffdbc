"""rcceval.analyses.costing."""
