"""Dagster definitions, one sub-package per domain."""
