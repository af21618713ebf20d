"""The embedded demo LMS: a real LTI 1.3 platform (lti1p3platform) with one sample course.

`socle demo` runs it beside the tool so that a newcomer can add and take a parcours in a
browser with zero configuration; the tool's end-to-end tests use it as their LTI peer. It is a
demonstration platform, never a production LMS.
"""

from __future__ import annotations

from .app import create_demo_lms, demo_registration
from .config import CLIENT_ID, DEPLOYMENT_ID, PlatformRegistration, ToolEndpoints

__all__ = [
    "CLIENT_ID",
    "DEPLOYMENT_ID",
    "PlatformRegistration",
    "ToolEndpoints",
    "create_demo_lms",
    "demo_registration",
]
