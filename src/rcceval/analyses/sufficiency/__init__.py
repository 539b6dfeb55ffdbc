"""rcceval.analyses.sufficiency."""
