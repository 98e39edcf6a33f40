"""dbt models and tests as software-defined assets and asset checks, grouped by model folder."""

from collections.abc import Iterator, Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, dbt_assets

from orchestration.project import dbt_project


class RevopsDbtTranslator(DagsterDbtTranslator):
    """Groups models by their top-level folder (staging, intermediate, marts, utilities)."""

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        fqn = dbt_resource_props.get("fqn", [])
        if dbt_resource_props.get("resource_type") == "model" and len(fqn) > 2:
            return fqn[1]
        return super().get_group_name(dbt_resource_props)


@dbt_assets(
    manifest=dbt_project.manifest_path,
    dagster_dbt_translator=RevopsDbtTranslator(),
    project=dbt_project,
    # dbt writes the warehouse: it takes turns with the ingestion assets (one DuckDB writer).
    pool="warehouse",
)
def revops_dbt_models(context: dg.AssetExecutionContext, dbt: DbtCliResource) -> Iterator[Any]:
    yield from dbt.cli(["build"], context=context).stream()
