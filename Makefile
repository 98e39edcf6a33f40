# The few entry points everyone uses. Each installs uv (pinned) if missing, then runs in the
# project's locked environment.
UV := python3 -m uv
BOOTSTRAP := python3 -m pip install --quiet --disable-pip-version-check uv==0.13.8
SCALE ?= s

.PHONY: demo test lint format generate bench clean

demo:
	$(BOOTSTRAP) && $(UV) run --locked revops demo

test:
	$(BOOTSTRAP) && $(UV) sync --locked --group spark && $(UV) run --locked pytest

lint:
	$(BOOTSTRAP) && $(UV) run --locked ruff check . && $(UV) run --locked ruff format --check .
	REVOPS_WAREHOUSE=$${REVOPS_WAREHOUSE:-/tmp/revops-lint.duckdb} $(UV) run --locked sqlfluff lint models

format:
	$(UV) run --locked ruff format . && $(UV) run --locked ruff check --fix .

generate:
	$(BOOTSTRAP) && $(UV) run --locked revops generate --scale $(SCALE) --out data/landing

# Times the refresh against its floor; SCALE may list several scales ("xs s m l").
bench:
	$(BOOTSTRAP) && $(UV) run --locked python -m bench.refresh_bench --scale $(SCALE) --update-docs

clean:
	rm -rf target logs data .pytest_cache
