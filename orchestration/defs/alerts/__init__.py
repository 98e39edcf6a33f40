"""Alerts: the run-failure sensor that calls the settings' alert hook (revops/alerts.py)."""
