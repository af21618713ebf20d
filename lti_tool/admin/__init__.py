"""The administration console (``/admin``): sign-in, registrations, xAPI, keys, audit log.

Importing the package does nothing; :func:`lti_tool.admin.web.init_app` wires it into an app.
The console calls the same service functions as the CLI (``lti_tool.lti.registrations``,
``lti_tool.lti.keys``, ``xapi.status``), so a form and a command validate alike.
"""
