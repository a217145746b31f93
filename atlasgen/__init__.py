"""atlasgen: chart the Hugging Face Hub as a Model Atlas."""

__version__ = "0.1.0"
