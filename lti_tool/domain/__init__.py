"""Pure assessment logic: framework model, answer checking, adaptive algorithms, scoring.

Standard library only — no Flask, SQLAlchemy, YAML or I/O, and no global random state (a
``random.Random`` is always injected) — so that everything about measuring competence can be
tested and benchmarked without an application, a database or a network, like Flask's
``sansio`` package.
"""
