"""A minimal OpenID Connect provider for the tests: django-oauth-toolkit with OIDC on.

Run in its own process by tests/accounts/test_oidc.py (`python -m
tests.accounts.oidc_provider.serve CONFIG.json`), with its own settings and SQLite file.
"""
