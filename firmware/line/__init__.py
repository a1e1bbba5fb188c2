"""Line judgement: is the caller heard? A streaming analyzer (numpy only) and `linecheck`."""
from firmware.line.analyzer import FileVerdict, LineAnalyzer, LineReport, analyze

__all__ = ["FileVerdict", "LineAnalyzer", "LineReport", "analyze"]
