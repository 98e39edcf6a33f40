{#-
    An org setting (docs/CONFIGURATION.md): the environment variable `REVOPS_<NAME>` when set
    and not empty, else the dbt var `<name>` (its default is in dbt_project.yml; `--vars`
    overrides it). `revops refresh` exports the settings file named by $REVOPS_SETTINGS as
    these environment variables, so a plain `dbt build` and the refresh see the same values.
-#}
{% macro setting(name) %}
    {%- set value = env_var('REVOPS_' ~ (name | upper), '') -%}
    {{ return(value if value | string | trim != '' else var(name)) }}
{% endmacro %}
