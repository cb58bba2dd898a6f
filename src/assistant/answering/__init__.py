from .base import Answerer, Draft, Evidence
from .extractive import ExtractiveAnswerer

__all__ = ["Answerer", "Draft", "Evidence", "ExtractiveAnswerer"]
