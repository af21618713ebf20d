"""Web layer: thin views over the services, templates, security headers.

The request plumbing (:func:`socle`, :func:`db_session`, :func:`transaction`) lives in
:mod:`lti_tool.pages`, below every view; it is re-exported here for the web layer's modules.
"""

from __future__ import annotations

from lti_tool.pages import db_session, socle, transaction

__all__ = ["db_session", "socle", "transaction"]
