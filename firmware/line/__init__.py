"""Line judgement: is the caller heard? A streaming analyzer (numpy only) and `linecheck`."""
from firmware.threads import pin_math_threads

pin_math_threads()  # before the analyzer imports numpy (a no-op when the entry point did it already)

from firmware.line.analyzer import FileVerdict, LineAnalyzer, LineReport, analyze  # noqa: E402

__all__ = ["FileVerdict", "LineAnalyzer", "LineReport", "analyze"]
