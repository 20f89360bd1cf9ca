"""The design act: today's process (the baseline) and what a model is worth in money against it.

The design card that shows both is a report (:mod:`mlcycle.report.card`); the contract the
design is written in is :mod:`mlcycle.contract`.
"""
