"""Agents' data rights (RGPD): find, export, erase; retention; the public privacy notice.

Importing the package does nothing; the CLI and the app register its commands and views.
"""
