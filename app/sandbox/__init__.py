"""Sandbox mode: a private fake cloud per visitor session (``--sandbox``)."""
