"""What an LMS administrator is told when a dynamic registration is refused, in plain French.

The page names what was wrong (and which field of the platform's configuration, from a fixed
list) but never the text of a lower-level error: a connection error would tell an
unauthenticated caller what listens on which port of which machine.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString

_CHECK_URL = _l(
    "Vérifiez l'adresse de configuration de la plateforme, ou enregistrez Socle manuellement "
    "avec « socle platform add »."
)
_CHECK_PLATFORM = _l(
    "Vérifiez la configuration LTI de la plateforme, ou enregistrez Socle manuellement avec "
    "« socle platform add »."
)
_RETRY = _l("Réessayez dans quelques minutes, ou enregistrez Socle manuellement.")

# code -> (HTTP status, what happened, what to do)
REFUSALS: dict[str, tuple[int, LazyString, LazyString]] = {
    "bad_url": (400, _l("L'adresse de configuration de la plateforme est invalide."), _CHECK_URL),
    "bad_host": (
        400,
        _l(
            "L'adresse désigne la plateforme par une adresse IP, ou contient des informations "
            "d'identification ou des caractères refusés : seul un nom d'hôte est accepté."
        ),
        _CHECK_URL,
    ),
    "host_not_allowed": (
        403,
        _l("L'enregistrement automatique n'est pas autorisé pour cette plateforme."),
        _l(
            "L'administrateur de Socle doit ajouter son nom d'hôte à SOCLE_REGISTRATION_HOSTS, "
            "ou enregistrer la plateforme avec « socle platform add »."
        ),
    ),
    "not_https": (
        400,
        _l("La plateforme doit être jointe en https : le http simple est refusé."),
        _CHECK_URL,
    ),
    "unresolvable": (502, _l("Le nom d'hôte de la plateforme est introuvable."), _CHECK_URL),
    "private_address": (
        400,
        _l(
            "Le nom d'hôte de la plateforme désigne une adresse locale ou privée, "
            "que Socle ne contacte pas."
        ),
        _CHECK_URL,
    ),
    "unreachable": (502, _l("La plateforme n'a pas pu être jointe."), _RETRY),
    "too_slow": (502, _l("La plateforme a mis trop de temps à répondre."), _RETRY),
    "too_large": (502, _l("La réponse de la plateforme est trop volumineuse."), _CHECK_PLATFORM),
    "redirect": (
        502,
        _l("La plateforme a répondu par une redirection, que Socle ne suit pas."),
        _CHECK_URL,
    ),
    "not_json": (502, _l("La réponse de la plateforme est illisible."), _CHECK_PLATFORM),
    "bad_configuration": (
        502,
        _l("La configuration de la plateforme est incomplète ou invalide."),
        _CHECK_PLATFORM,
    ),
    "not_lti_platform": (
        502,
        _l("Cette configuration n'est pas celle d'une plateforme LTI."),
        _CHECK_URL,
    ),
    "endpoint_elsewhere": (
        502,
        _l(
            "La configuration de la plateforme désigne une adresse sur un autre hôte que le sien, "
            "ou sans https."
        ),
        _CHECK_PLATFORM,
    ),
    "registration_refused_by_platform": (
        502,
        _l("La plateforme a refusé l'enregistrement de Socle."),
        _CHECK_PLATFORM,
    ),
    "bad_registration_answer": (
        502,
        _l("La réponse de la plateforme à l'enregistrement est incomplète."),
        _CHECK_PLATFORM,
    ),
    "no_deployment_id": (
        502,
        _l("La plateforme n'a pas donné d'identifiant de déploiement."),
        _l("Enregistrez Socle manuellement avec « socle platform add »."),
    ),
    "exists": (
        409,
        _l(
            "Cette plateforme est déjà enregistrée avec cet identifiant client : un "
            "enregistrement existant n'est jamais modifié par l'enregistrement automatique."
        ),
        _l(
            "Pour le modifier, l'administrateur de Socle utilise "
            "« socle platform add --update »."
        ),
    ),
    "invalid": (
        502,
        _l("La plateforme a donné des adresses ou identifiants que Socle refuse."),
        _CHECK_PLATFORM,
    ),
}

FIELD = _l("Champ en cause : %(field)s.")
