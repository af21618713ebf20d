"""LTI 1.3: registrations, keys, OIDC login, hardened launch validation, deep linking."""
