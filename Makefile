# The few entry points everyone uses. Each installs uv (pinned) if missing, then runs in the
# project's locked environment.
UV := python3 -m uv
BOOTSTRAP := python3 -m pip install --quiet --disable-pip-version-check uv==0.13.8
SCALE ?= s
# Installs compile the dependencies to bytecode once: without it, wherever .pyc files cannot be
# written (PYTHONDONTWRITEBYTECODE=1, common in containers), every refresh, dbt and test process
# compiles dagster and dbt again (~1.7 s of CPU each; docs/SERVING.md "Daily increments").
# Set here, not in pyproject.toml: there every `uv run` would re-check ~8,700 files (~1 s).
SYNC := $(UV) sync --locked --compile-bytecode

.PHONY: demo test lint format generate bench clean

demo:
	$(BOOTSTRAP) && $(UV) run --locked revops demo

test:
	$(BOOTSTRAP) && $(SYNC) --group spark && $(UV) run --locked pytest

lint:
	$(BOOTSTRAP) && $(UV) run --locked ruff check . && $(UV) run --locked ruff format --check .
	REVOPS_WAREHOUSE=$${REVOPS_WAREHOUSE:-/tmp/revops-lint.duckdb} $(UV) run --locked sqlfluff lint models

format:
	$(UV) run --locked ruff format . && $(UV) run --locked ruff check --fix .

generate:
	$(BOOTSTRAP) && $(UV) run --locked revops generate --scale $(SCALE) --out data/landing

# Times the refresh against its floor; SCALE may list several scales ("xs s m l").
bench:
	$(BOOTSTRAP) && $(SYNC) --inexact && $(UV) run --locked python -m bench.refresh_bench --scale $(SCALE) --update-docs

clean:
	rm -rf target logs data .pytest_cache
