"""Who answers for each part of the asset graph: the Dagster asset owners.

An org sets its own teams (or people's e-mail addresses) here for the Python assets, and in
dbt_project.yml (`+meta: {dagster: {owners: [...]}}`) for the dbt models and seeds
(docs/CONFIGURATION.md, "Orchestration"). Owners must be e-mail addresses or `team:<name>`.
"""

# Landing files, their ingestion, the settings file's overrides and the published snapshot.
DATA_PLATFORM: list[str] = ["team:data-platform"]
