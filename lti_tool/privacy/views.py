"""``/confidentialite``: the public privacy notice, in French and English.

A text a DPO can adapt: what is processed, why, on which legal basis (to be filled in by the
controller), for how long (from the settings actually in force), who receives it, which
rights agents have and whom to contact (``SOCLE_DPO_CONTACT``). ``?lang=en`` or the
browser's language picks English.
"""

from __future__ import annotations

from flask import Blueprint, g, render_template, request

from lti_tool.admin.settings import PrivacySettings
from lti_tool.i18n import SUPPORTED_LOCALES
from lti_tool.web import socle

bp = Blueprint("privacy", __name__)


@bp.get("/confidentialite")
def notice() -> str:
    lang = request.args.get("lang")
    if lang in SUPPORTED_LOCALES:
        g.locale = lang
    ext = socle()
    privacy = PrivacySettings.load(ext.settings)
    return render_template(
        "privacy/notice.html",
        privacy=privacy,
        retention_years=round(privacy.retention_days / 365, 1),
        login_minutes=max(ext.settings.login_state_lifetime // 60, 1),
        launch_hours=max(ext.settings.token_lifetime // 3600, 1),
    )
