"""Ingestion of the landing folder: one asset per export object, a sensor and a daily schedule."""
