"""Realistic demo data for the Campus CosmetoPharma platform (SPEC §9).

data.py holds the literal tables, loader.py creates what is missing through the services.
"""

from .data import DEFAULT_PASSWORD, DEMO_LOGINS
from .loader import load_demo_data

__all__ = ["DEFAULT_PASSWORD", "DEMO_LOGINS", "load_demo_data"]
