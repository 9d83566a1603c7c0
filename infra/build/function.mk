# Builds one function's artifact for `sam build` (BuildMethod: makefile, BuildInSource: true), included by
# the Makefile in each functions/<name>/ directory, which sets EXTRAS first.
#
# An artifact is the function's app.py, the `atelier` package and exactly the dependencies the function
# needs, from uv.lock, as arm64 wheels for the Lambda runtime (Amazon Linux 2023, glibc 2.34), with bytecode
# compiled (Lambda cannot write it at run time). boto3 is left to the runtime, which ships it.
# EXTRAS (pyproject.toml): `stripe` for the Stripe functions, `notion` for those that push to Notion, `reports` for
# those that draw the owner's report. LEAVE_OUT: packages a dependency declares that the function never loads
# (fpdf2 takes Pillow only for raster images; the report's PDF holds SVG charts and text). To reach
# Postgres through Supavisor with psycopg instead of PostgREST, add `psycopg` and set DATABASE_URL_SECRET.
ROOT := $(abspath $(dir $(lastword $(MAKEFILE_LIST)))/../..)
FUNCTION := $(notdir $(CURDIR))
UV ?= $(ROOT)/.uv/bin/uv
LAMBDA_PYTHON ?= 3.13
# Parts of the package no function imports (tests/packaging/test_function_artifacts.py proves it): the operator's
# command (with the migrator, progress bars and replay), which runs on an operator's machine, never in Lambda.
LOCAL_ONLY := cli

build-%:
	$(UV) export --project $(ROOT) --frozen --no-dev --no-emit-project --no-hashes --quiet \
		$(foreach extra,$(EXTRAS),--extra $(extra)) \
		--no-emit-package boto3 --no-emit-package botocore --no-emit-package s3transfer \
		$(foreach package,$(LEAVE_OUT),--no-emit-package $(package)) \
		-o $(ARTIFACTS_DIR)/requirements.txt
	$(UV) pip install --quiet --target $(ARTIFACTS_DIR) -r $(ARTIFACTS_DIR)/requirements.txt \
		--python-platform aarch64-manylinux_2_34 --python-version $(LAMBDA_PYTHON) --only-binary :all: --no-deps \
		--compile-bytecode
	rm -f $(ARTIFACTS_DIR)/requirements.txt
	# C sources some wheels ship beside their compiled modules, never read at run time; and fontTools' optional
	# Cython accelerators, whose pure-Python twins stay (fpdf2 needs fontTools only for TrueType fonts, which the
	# report, drawn in the PDF's core fonts, never embeds).
	find $(ARTIFACTS_DIR) -name '*.c' -delete
	if [ -d $(ARTIFACTS_DIR)/fontTools ]; then find $(ARTIFACTS_DIR)/fontTools -name '*.so' -delete; fi
	cp -r $(ROOT)/shared/atelier $(ARTIFACTS_DIR)/atelier
	cd $(ARTIFACTS_DIR)/atelier && rm -rf $(LOCAL_ONLY)
	cp $(CURDIR)/app.py $(ARTIFACTS_DIR)/app.py
	find $(ARTIFACTS_DIR)/atelier -name '__pycache__' -type d -prune -exec rm -rf {} +
	python$(LAMBDA_PYTHON) -m compileall -q $(ARTIFACTS_DIR)/atelier $(ARTIFACTS_DIR)/app.py
