{#-
    The relation a model reads an org mapping from (`lead_status_stages`,
    `opportunity_stages`, ...): the mapping seed with the vendors' defaults. Every model reads
    mappings through this macro, so that org overrides (docs/CONFIGURATION.md) reach them all.
-#}
{% macro org_mapping(seed_name) %}
    {{ return(ref(seed_name)) }}
{% endmacro %}
