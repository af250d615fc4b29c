# The few entry points people type. CI (.ci/run) calls `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: run test test-tools lint typecheck check env clean devportal-assets bench loadtest

env: $(VENV)/.installed devportal-assets examples/identity/node_modules/.installed

# The portal's vendored browser assets (Swagger UI, Chart.js) and axe-core, from devportal/package-lock.json.
# --ignore-scripts: none of them needs an install script, and one would phone home.
devportal-assets: devportal/node_modules/.installed

devportal/node_modules/.installed: devportal/package-lock.json
	cd devportal && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	touch $@

# The demo identity federation `make run` starts for citizens (oidc-provider, from examples/identity/package-lock.json).
examples/identity/node_modules/.installed: examples/identity/package-lock.json
	npm ci --prefix examples/identity --ignore-scripts --no-audit --no-fund --loglevel=error
	touch $@

# The OpenID Provider the jwt plugin's tests start (oidc-provider, from tests/oidc_provider/package-lock.json).
tests/oidc_provider/node_modules/.installed: tests/oidc_provider/package-lock.json
	npm ci --prefix tests/oidc_provider --ignore-scripts --no-audit --no-fund --loglevel=error
	touch $@

# Reinstall when the pinned dependencies change.
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

## make run: the embedded platform (SQLite, in-process counters, example agencies) on 8000/8001/8002, and the
## citizens' demo identity federation on 8003.
run: env
	$(BIN)/agora run

## make bench: wrk against the upstream, nginx proxy_pass and the gateway (bare, plugins, redis policy);
## installs nginx, wrk and redis-server with apt when missing; writes docs/benchmarks.md (a few minutes).
bench: env
	$(BIN)/python -m loadtests.bench

## make loadtest: locust's realistic mix for 60 s against `make run`'s platform (started if not running);
## reports in var/loadtest/; fails above 0.1% unexpected answers.
loadtest: env
	$(BIN)/python -m loadtests.loadtest

## make test: installs what the suite drives (test-tools, npm, venv), then lint, types and the whole test suite
## (SQLite and the PostgreSQL on 127.0.0.1:5432; Redis on 6379). README says what it installs.
test: test-tools env lint typecheck tests/oidc_provider/node_modules/.installed
	# Three workers, whole modules each: most tests wait on processes and sockets, not the CPU.
	$(BIN)/pytest -n 3 --dist loadfile -m "not solo"
	# Then, alone on the machine, the few that compare timings (a busy neighbour skews a ratio).
	$(BIN)/pytest -m solo

# The programs the suite drives, as `program=Debian package`: Chromium for the portal's browser tests (Playwright
# drives /usr/bin/chromium; never `playwright install`), docker-compose, which validates docker-compose.yml
# (no container engine), and nginx, the reference of the gateway's differential test. Installed with apt when missing and make runs as root, as `make bench` does for nginx
# and wrk; otherwise make stops with the command to run, rather than the suite skipping those tests.
TEST_TOOLS := /usr/bin/chromium=chromium docker-compose=docker-compose nginx=nginx

test-tools:
	@missing=""; \
	for tool in $(TEST_TOOLS); do \
	  command -v "$${tool%%=*}" >/dev/null 2>&1 || missing="$$missing $${tool#*=}"; \
	done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" != 0 ]; then \
	    echo "make test: missing$$missing: run \`apt-get install -y$$missing\` as root, then make test" >&2; \
	    exit 1; \
	  fi; \
	  echo "installing$$missing (apt)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o DPkg::Lock::Timeout=300$$missing >/dev/null; \
	fi

lint: env
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: env
	$(BIN)/mypy

clean:
	rm -rf $(VENV) var site .mypy_cache .pytest_cache .ruff_cache
