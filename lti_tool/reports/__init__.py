"""Training reports: what a training service decides its training plan from.

``analysis`` computes every figure from plain rows (pure, like ``domain``); ``queries`` reads
the rows of a scope once; ``roster`` fetches the course members (NRPS); ``exports`` writes
CSV and XLSX line by line; ``svg`` draws the charts; ``views`` are the pages
(``/activity/report``, ``/organisation/report``) and :func:`views.organisation_report`, the
organisation figures for any caller that holds a platform registration; ``commands`` is
``socle report competences`` (the same table from the LRS alone). See docs/reports.md.
"""
