"""The part of a launch's id_token that the tool keeps (``Launch.claims``).

An id_token carries far more than the tool needs: the person's names, email and picture, SIS
identifiers (``lis``), vendor extensions (Moodle's and Canvas's ``ext`` with user names),
custom parameters an LMS may fill with substitution variables (``$Person.email.primary``).
A registration that does not allow personal data (``Platform.store_personal_data``, the
default) must leave no trace of them, and even one that does keeps names and emails in
``LtiUser`` only. So the stored claims are built from an explicit allow-list — what the tool
reads after the launch, and nothing else: an unknown claim, or an unknown key of a known
claim, is dropped.

What is kept, and why (keep this table in step with the readers of ``Launch.claims``):

=================================  =====================================================
claim (kept keys)                  read by
=================================  =====================================================
AGS endpoint (scope, lineitem,     the gradebook: ``player/service.py`` (is a score
lineitems)                         expected?), ``player/grades.py`` (where to post it)
deep_linking_settings              the deep linking response (``web/activity.py``),
                                   returned to the platform as it came
context (id, label, title, type)   xAPI statements (``player/events.py``)
roles, custom.parcours,            the launch row (side, parcours, language) is written
launch_presentation,               from them at launch; kept for later pages (the return
resource_link                      URL, the document target)
NRPS endpoint, tool_platform       course members and the LMS product, for services and
                                   support; no personal data in the kept keys
message_type, version,             what the launch was; not personal
deployment_id, target_link_uri
=================================  =====================================================

A claim that the spec makes an object is dropped when it is not one, so a reader never meets
a value it does not expect.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lti_tool.lti.launch import AGS_CLAIM, CLAIM, DL_CLAIM

NRPS_CLAIM = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"

# Claim -> None (the value kept as it is) or the keys kept from the object. Names, emails,
# pictures, ``lis``, ``role_scope_mentor``, ``ext`` and every claim not listed are dropped.
STORED_CLAIMS: Mapping[str, frozenset[str] | None] = {
    CLAIM + "message_type": None,
    CLAIM + "version": None,
    CLAIM + "deployment_id": None,
    CLAIM + "target_link_uri": None,
    CLAIM + "roles": None,
    CLAIM + "resource_link": frozenset({"id", "title", "description"}),
    CLAIM + "context": frozenset({"id", "label", "title", "type"}),
    # Only the custom parameters the tool defines: an LMS may put personal data in others.
    CLAIM + "custom": frozenset({"parcours"}),
    CLAIM + "launch_presentation": frozenset(
        {"document_target", "return_url", "locale", "width", "height"}
    ),
    # ``contact_email`` (a person's address) is left out.
    CLAIM + "tool_platform": frozenset(
        {"guid", "name", "version", "product_family_code", "description", "url"}
    ),
    AGS_CLAIM: frozenset({"scope", "lineitem", "lineitems"}),
    NRPS_CLAIM: frozenset({"context_memberships_url", "service_versions"}),
    # Returned to the platform as it sent them (``data`` is the platform's own, opaque).
    DL_CLAIM + "deep_linking_settings": frozenset(
        {
            "deep_link_return_url",
            "accept_types",
            "accept_presentation_document_targets",
            "accept_media_types",
            "accept_multiple",
            "accept_lineitem",
            "auto_create",
            "title",
            "text",
            "data",
        }
    ),
}


def stored_claims(claims: Mapping[str, Any]) -> dict[str, Any]:
    """The claims of a validated launch that may be stored: the allow-listed ones only."""
    kept: dict[str, Any] = {}
    for name, keys in STORED_CLAIMS.items():
        if name not in claims:
            continue
        value = claims[name]
        if keys is None:
            kept[name] = value
        elif isinstance(value, Mapping):
            kept[name] = {key: value[key] for key in value if key in keys}
    return kept
