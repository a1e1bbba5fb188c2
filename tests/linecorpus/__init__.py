"""The project's own labelled corpus of telephone-line clips, and a scorer for line-quality detectors.

``build`` synthesises speech (espeak-ng, Ukrainian, Russian and English voices), carries it through an
8 kHz telephone band and impairs it in known ways (noise, packet loss, codecs, clipping, low level,
band limits, dead and silent lines); clean but unusual speech (slow, fast, stuttered, long pauses,
low or high pitch) is included as the case a detector must leave alone.  ``labels`` gives each clip its
category from ESTOI against the clean reference and the active speech level; ``score`` runs any
command that speaks the ``deskunit linecheck --json`` contract over a corpus and reports the figures.

Command lines: ``tests/bench/line_make_corpus.py`` and ``tests/bench/line_score.py``.
"""
