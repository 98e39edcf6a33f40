"""The one DbtProject of the code location, rooted at the repository's dbt project."""

from pathlib import Path

from dagster_dbt import DbtProject

REPO_ROOT = Path(__file__).resolve().parent.parent

dbt_project = DbtProject(
    project_dir=REPO_ROOT,
    profiles_dir=REPO_ROOT,
)
