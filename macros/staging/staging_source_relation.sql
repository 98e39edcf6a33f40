{#-
    The raw relation a staging model reads: the one dbt source among the model's parents.
-#}
{% macro staging_source_relation(model) %}
    {%- if not execute -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set nodes = graph.nodes.values()
        | selectattr('resource_type', 'equalto', 'model')
        | selectattr('alias', 'equalto', model.identifier)
        | list -%}
    {%- if nodes | length != 1 -%}
        {{ exceptions.raise_compiler_error(
            "cast_failures: no single model node for relation " ~ model
        ) }}
    {%- endif -%}
    {%- set source_ids = [] -%}
    {%- for node_id in nodes[0].depends_on.nodes if node_id.startswith('source.') -%}
        {%- do source_ids.append(node_id) -%}
    {%- endfor -%}
    {%- if source_ids | length != 1 -%}
        {{ exceptions.raise_compiler_error(
            "cast_failures: model " ~ nodes[0].name ~ " must read exactly one source, found "
            ~ source_ids | length
        ) }}
    {%- endif -%}
    {%- set src = graph.sources[source_ids[0]] -%}
    {{ return(api.Relation.create(
        database=src.database, schema=src.schema, identifier=src.identifier
    )) }}
{% endmacro %}
