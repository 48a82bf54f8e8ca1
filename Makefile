PY ?= .venv/bin/python
PORT ?= 8501

.PHONY: run test load screenshots venv lint bench demo clean bytecode

# uv installs the pinned requirements in a quarter of pip's time (27 s against 63 s on a
# fresh machine here, a fifth of the CPU). The venv has no pip of its own (ensurepip costs
# 6 s): the interpreter's pip puts uv beside it, or ensurepip's where it has none. Then the bytecode:
# unlike pip, uv writes no .pyc by default, and where PYTHONDONTWRITEBYTECODE is set (this
# machine, CI) every Python process would compile streamlit, pandas and the rest from
# source again: `import server` 8.4 s instead of 3.0 s for each server, CLI and test worker.
# The packages' own test folders are left out (a third of the files: 23 s → 16 s here), and
# so are the packages nothing here imports (pip, setuptools; scikit-learn: the models follow
# its conventions without importing it): a sixth of the rest.
.venv/.installed: requirements.txt requirements-dev.txt
	test -x $(PY) || python3 -m venv --without-pip .venv
	python3 -m pip install -q --root-user-action=ignore --upgrade --target .venv/uv uv==0.13.8 \
	  || ($(PY) -m ensurepip -q && $(PY) -m pip install -q --upgrade --target .venv/uv uv==0.13.8)
	.venv/uv/bin/uv pip install -q --python $(PY) -r requirements-dev.txt
	$(PY) -m compileall -q -j 0 -x '/tests?/|/site-packages/(pip|setuptools|pkg_resources|sklearn)/' "$$($(PY) -c 'import sysconfig; print(sysconfig.get_path("purelib"))')"
	touch $@

venv: .venv/.installed

run: venv
	$(PY) -m calibration init
	$(PY) -m streamlit run server.py --server.port=$(PORT) --server.headless=true

# The app's own bytecode, written once (0.7 s) for the ~60 servers, CLI runs and workers
# the tests start: PYTHONDONTWRITEBYTECODE (set here and in CI) keeps Python from saving
# it, so each process would compile the app again (0.5 s of CPU each).
bytecode:
	$(PY) -m compileall -q -j 0 app.py server.py calibration models ui pages bench

# Lint first (ruff check and the format check), then the tests.
test: venv lint bytecode
	$(PY) -m pytest -q -n 3 --dist loadfile --no-loadscope-reorder -m "not load"

# The 60-browser load test (13 min here, mostly 60 Chromium renderers competing for 2 cores):
# not part of `make test`; tests/browser/test_concurrency.py is its small twin there.
load: venv bytecode
	$(PY) -m pytest -q -s -p no:cacheprovider -m load

# The browser tests again, with a picture of every step and every screen (en and zh, 1440 px
# and the 1280x720 projector) in test-artifacts/screenshots/: look at them before a release.
screenshots: venv bytecode
	CALIBRATE_SCREENSHOTS=1 $(PY) -m pytest -q -n 3 --dist loadfile tests/browser -m "not load"

lint: venv
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

bench: venv
	$(PY) -m bench

demo: venv
	$(PY) data/make_demo.py
