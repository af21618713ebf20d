"""What a person is told when a launch or login is refused, in plain words.

The technical detail goes to the log; the page says what happened and what to do.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

_CHECK_REGISTRATION = _l(
    "Demandez à l'administrateur de votre plateforme de vérifier l'enregistrement de Socle."
)
_RELAUNCH = _l("Revenez à votre plateforme de formation et relancez l'activité.")
_TOO_MANY_LOGINS = _l("Trop de connexions ont été ouvertes depuis votre réseau en peu de temps.")
_WAIT = _l("Patientez une minute, puis relancez l'activité depuis votre plateforme.")

REJECTIONS = {
    "missing_id_token": (_l("La plateforme n'a pas transmis de jeton de lancement."), _RELAUNCH),
    "platform_error": (_l("La plateforme de formation a signalé une erreur."), _RELAUNCH),
    "malformed_token": (_l("Le jeton de lancement est illisible."), _RELAUNCH),
    "bad_algorithm": (
        _l("Le jeton de lancement utilise un algorithme de signature refusé (RS256 exigé)."),
        _CHECK_REGISTRATION,
    ),
    "missing_kid": (
        _l("Le jeton de lancement ne dit pas quelle clé l'a signé (kid absent)."),
        _CHECK_REGISTRATION,
    ),
    "unknown_kid": (
        _l("La clé qui a signé le jeton est inconnue de la plateforme déclarée."),
        _CHECK_REGISTRATION,
    ),
    "jwks_unavailable": (
        _l("Les clés publiques de la plateforme sont inaccessibles pour le moment."),
        _l("Réessayez dans quelques minutes ; si le problème persiste, prévenez l'administrateur."),
    ),
    "bad_signature": (_l("La signature du jeton de lancement est invalide."), _CHECK_REGISTRATION),
    "unknown_issuer": (
        _l("Cette plateforme de formation n'est pas enregistrée auprès de Socle."),
        _CHECK_REGISTRATION,
    ),
    "wrong_audience": (
        _l("Le jeton de lancement est destiné à un autre outil que Socle."),
        _CHECK_REGISTRATION,
    ),
    "bad_azp": (
        _l("Le jeton de lancement ne désigne pas Socle comme destinataire autorisé (azp)."),
        _CHECK_REGISTRATION,
    ),
    "expired": (
        _l("Le jeton de lancement a expiré."),
        _l(
            "Relancez l'activité depuis votre plateforme ; si cela se reproduit, l'horloge du "
            "serveur de la plateforme est peut-être décalée."
        ),
    ),
    "issued_in_future": (
        _l("Le jeton de lancement est daté dans le futur."),
        _l("L'horloge du serveur de la plateforme est décalée : prévenez son administrateur."),
    ),
    "missing_claim": (_l("Il manque une information obligatoire dans le jeton."), _RELAUNCH),
    "replayed": (
        _l("Ce lancement a déjà été utilisé : il ne peut servir qu'une fois."),
        _RELAUNCH,
    ),
    "missing_state": (_l("Le lancement ne contient pas le paramètre d'état attendu."), _RELAUNCH),
    "unknown_state": (
        _l("Ce lancement ne correspond à aucune connexion en cours, ou elle a expiré."),
        _RELAUNCH,
    ),
    "state_cookie_missing": (
        _l("Votre navigateur n'a pas renvoyé le cookie de connexion (cookies tiers bloqués ?)."),
        _l(
            "Relancez l'activité en l'ouvrant dans une nouvelle fenêtre, ou autorisez les cookies "
            "pour ce site."
        ),
    ),
    "state_mismatch": (_l("Le paramètre d'état ne correspond pas à votre connexion."), _RELAUNCH),
    "nonce_mismatch": (
        _l("Le jeton de lancement ne correspond pas à la connexion ouverte (nonce)."),
        _RELAUNCH,
    ),
    "unknown_deployment": (
        _l("Ce déploiement de Socle n'est pas enregistré pour cette plateforme."),
        _CHECK_REGISTRATION,
    ),
    "bad_version": (_l("Seule la version 1.3.0 de LTI est prise en charge."), _CHECK_REGISTRATION),
    "missing_message_type": (_l("Le type de message LTI est absent."), _CHECK_REGISTRATION),
    "bad_message_type": (
        _l("Ce type de message LTI n'est pas pris en charge par Socle."),
        _CHECK_REGISTRATION,
    ),
    "missing_sub": (_l("Le lancement n'indique pas quel utilisateur est connecté."), _RELAUNCH),
    "missing_resource_link": (
        _l("Le lancement ne précise pas de quelle activité il s'agit (resource_link)."),
        _RELAUNCH,
    ),
    "bad_deep_linking": (
        _l("La demande d'ajout d'activité est incomplète."),
        _CHECK_REGISTRATION,
    ),
    "bad_claims": (_l("Le jeton de lancement contient des informations mal formées."), _RELAUNCH),
    "bad_login": (_l("La demande de connexion est incomplète ou mal formée."), _RELAUNCH),
    "too_many_logins": (_TOO_MANY_LOGINS, _WAIT),
    "login_rate_limited": (_TOO_MANY_LOGINS, _WAIT),
    "logins_saturated": (
        _l("Socle reçoit trop de connexions en ce moment."),
        _WAIT,
    ),
}


def explain(code: str) -> tuple[str, str]:
    message, advice = REJECTIONS.get(code, (_l("Le lancement a été refusé."), _RELAUNCH))
    return str(message), str(advice)
