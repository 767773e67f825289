"""ReasoningRec: a teacher LLM's chain-of-thought rationales distilled into a small student
that predicts whether a user will like an item, and explains why (arXiv 2410.23180)."""

__version__ = "0.1.0"
