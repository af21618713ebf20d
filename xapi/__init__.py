"""xAPI for Socle: statement vocabulary and builders, the outbox, delivery to LRSs, reporting.

Independent of the web app by design (it imports neither Flask nor ``lti_tool``): the service
layer passes plain values to :class:`xapi.builders.StatementBuilder`, writes the statements with
:func:`xapi.outbox.enqueue` inside its own transaction, and :class:`xapi.delivery.Worker` sends
them later. See ``docs/xapi.md``.
"""
