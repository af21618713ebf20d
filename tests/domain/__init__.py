"""Tests of the pure assessment domain (lti_tool.domain)."""
