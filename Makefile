# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# make demo   boot a local controller container, install the watcher into it, show it, clean up
# make test   every test: units, end-to-end, sanity, lint, Molecule (needs root: containers)
#
# Both set up what they need on a fresh Debian machine: host packages (apt), the .venv
# (tests/requirements.txt) and the container rootfs (cached in /var/cache/atvm-watcher).
#
# make mutation   mutation testing of the decision rules (decision/rules.py, the post's result line)
# make release RELEASE=X.Y.Z   bump galaxy.yml to X.Y.Z and release the changelog fragments as X.Y.Z
# make ee       build the execution environment with podman from a local base, then smoke-run it

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
.PHONY: help demo test prepare host-packages venv rootfs build testtree units e2e sanity lint molecule changelog clean
.PHONY: settings-doc ee

PYTHON ?= python3
VENV := $(CURDIR)/.venv
BIN := $(VENV)/bin
BUILD := $(CURDIR)/build
VERSION := $(shell sed -n 's/^version: *//p' galaxy.yml)
ARTIFACT := $(BUILD)/atvm-watcher-$(VERSION).tar.gz
# The built artifact, installed as a user would: what Molecule and the demo run.
INSTALLED := $(BUILD)/collections
# A copy of the checkout laid out as ansible-test wants it.
TESTROOT := $(BUILD)/ansible-test
TESTTREE := $(TESTROOT)/ansible_collections/atvm/watcher
NSPAWN := $(CURDIR)/tests/nspawn/nspawn.sh
HOST_PACKAGES := systemd-container debootstrap zstd python3-venv git shellcheck

export PATH := $(BIN):$(PATH)
export PIP_DISABLE_PIP_VERSION_CHECK := 1
export DEBIAN_FRONTEND := noninteractive
# No colour escapes in output that is not a terminal (CI, `make test > log`): GNU make sets
# MAKE_TERMOUT only when its standard output is a terminal.
ifneq ($(CI)$(if $(MAKE_TERMOUT),,not-a-terminal),)
export NO_COLOR := 1
export ANSIBLE_NOCOLOR := 1
export ANSIBLE_FORCE_COLOR := 0
export PY_COLORS := 0
endif
# ansible-core imports cryptography's DSA on every call, which then warns that DSA is deprecated.
export PYTHONWARNINGS := ignore:DSA is deprecated

# Only what runs the built collection sees it as installed (the unit tests build and install
# artifacts of their own).
demo lint molecule: export ANSIBLE_COLLECTIONS_PATH := $(INSTALLED)

help:
	@sed -n 's/^# \(make .*\)/\1/p' Makefile

demo: prepare
	demo/run.sh

# Runs every test step even when one fails, then fails if any did.
test: prepare
	@failed=(); passed=(); \
	for step in units e2e sanity lint molecule; do \
	  start=$$SECONDS; echo "=== make $$step"; \
	  if $(MAKE) --no-print-directory $$step; then passed+=($$step); echo "=== $$step: ok ($$((SECONDS - start)) s)"; \
	  else failed+=($$step); echo "=== $$step: FAILED ($$((SECONDS - start)) s)"; fi; \
	done; \
	echo "=== failed: $${failed[*]:-none}"; \
	echo "steps: $${#passed[@]} passed, $${#failed[@]} failed"; \
	[ $${#failed[@]} -eq 0 ]

prepare: host-packages venv rootfs build

host-packages:
	@missing=$$(for p in $(HOST_PACKAGES); do \
	  dpkg-query -W -f='$${Status}\n' "$$p" 2>/dev/null | grep -q '^install ok installed$$' || echo "$$p"; done); \
	if [ -n "$$missing" ]; then \
	  echo "apt-get install" $$missing; \
	  apt-get update -qq && apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

venv: $(VENV)/.installed

$(VENV)/.installed: tests/requirements.txt
	@[ -x $(BIN)/python ] || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -r tests/requirements.txt
	@touch $@

rootfs: host-packages
	@$(NSPAWN) rootfs >/dev/null

# Build the collection artifact, check that it carries nothing from the test set-up, install it.
build: venv
	@rm -rf $(BUILD)/*.tar.gz $(INSTALLED)
	@mkdir -p $(BUILD)
	ansible-galaxy collection build --force --output-path $(BUILD) >/dev/null
	@junk=$$(tar -tzf $(ARTIFACT) | grep -E '^(tests|tools|demo|build|\.venv|\.ci|\.git|extensions/molecule|changelogs/fragments/.+)(/|$$)|__pycache__|\.pyc$$' || true); \
	if [ -n "$$junk" ]; then echo "the artifact carries files it must not:"; echo "$$junk"; exit 1; fi
	ansible-galaxy collection install --force -p $(INSTALLED) $(ARTIFACT) >/dev/null
	@echo "built and installed $(notdir $(ARTIFACT)) into $(INSTALLED)"

# ansible-test needs the collection under ansible_collections/atvm/watcher: copy the checkout
# (tracked and new files, nothing ignored) there. The copy gets a git index of its own: inside
# this checkout ansible-test would otherwise ask our git, which ignores build/, and test nothing.
testtree: venv
	@rm -rf $(TESTROOT)
	@mkdir -p $(TESTTREE)
	@git ls-files -z --cached --others --exclude-standard --deduplicate \
	  | tar --null -T - --ignore-failed-read -cf - 2>/dev/null | tar -x -C $(TESTTREE)
	@cd $(TESTTREE) && git init -q && git add -A

units: testtree
	cd $(TESTTREE) && ansible-test units --python 3.11 --color no

# Process-level end-to-end tests (plain pytest); pytest's exit 5 (no test collected) is reported.
# `make e2e REPEAT=20` runs them 20 times in a row and stops at the first failing round.
REPEAT ?= 1
e2e: testtree
	@if ! ls tests/e2e/test_*.py >/dev/null 2>&1; then echo "e2e: no tests under tests/e2e"; exit 0; fi; \
	for round in $$(seq $(REPEAT)); do \
	  [ $(REPEAT) -eq 1 ] || echo "=== e2e round $$round of $(REPEAT)"; \
	  rc=0; PYTHONPATH=$(TESTROOT) python -m pytest -q -p no:cacheprovider tests/e2e || rc=$$?; \
	  if [ $$rc -eq 5 ]; then echo "e2e: pytest collected no test"; exit 0; fi; [ $$rc -eq 0 ] || exit $$rc; \
	done

# ansible-test bootstraps pip in its venvs with a script it downloads from outside the package
# registries; tests/sanity/bootstrap_pip.py does the same with ensurepip and pip.
sanity: testtree
	@mkdir -p ~/.ansible/test/cache
	@pip_version=$$(python -c 'from ansible_test._internal.python_requirements import get_venv_packages; \
	  from types import SimpleNamespace; print(get_venv_packages(SimpleNamespace(version="3.11"))["pip"])'); \
	cp tests/sanity/bootstrap_pip.py ~/.ansible/test/cache/get_pip_$${pip_version//./_}.py
	cd $(TESTTREE) && ansible-test sanity --python 3.11 --color no

lint: venv
	ansible-lint
	ruff check --target-version py39 --no-cache plugins bin tests extensions tools
	antsibull-changelog lint

molecule: build rootfs
	tests/nspawn/molecule.sh

# docs/settings.md is made from the settings' declarations in settings.py by tools/settings_doc.py
# (a unit test fails when it is stale): regenerate it after changing a setting.
settings-doc:
	@tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; mkdir -p "$$tmp/ansible_collections/atvm"; \
	ln -s $(CURDIR) "$$tmp/ansible_collections/atvm/watcher"; \
	PYTHONPATH="$$tmp" $(PYTHON) -c 'import sys; from ansible_collections.atvm.watcher.tools.settings_doc import settings_reference; sys.stdout.write(settings_reference())' >"$$tmp/settings.md"; \
	mv "$$tmp/settings.md" docs/settings.md; echo "docs/settings.md regenerated"

# Single-point mutants of decision/rules.py and of the renderer's result line, each run against the unit
# tests that import them; fails on a survivor not listed (with its reason) in
# tests/mutation/equivalent.txt, or below 90 % killed. Not part of `make test` (it takes minutes).
.PHONY: mutation
mutation: venv
	python tests/mutation/mutate.py

# Release notes: add a fragment under changelogs/fragments/ with every user-visible change. A version
# bump is `make release RELEASE=X.Y.Z`: galaxy.yml gets the version and the fragments become its
# section of CHANGELOG.rst (also in the built artifact, which leaves the fragments out); a unit test
# fails when galaxy.yml's version has no section there. `make changelog` rebuilds CHANGELOG.rst
# from changelogs/changelog.yaml.
.PHONY: release
RELEASE ?=
release: venv
	@[[ "$(RELEASE)" =~ ^[0-9]+\.[0-9]+\.[0-9]+$$ ]] || { echo "make release RELEASE=X.Y.Z (now $(VERSION))"; exit 2; }
	@ls changelogs/fragments/*.yml >/dev/null 2>&1 || { echo "no changelog fragment to release"; exit 1; }
	sed -i 's/^version: .*/version: $(RELEASE)/' galaxy.yml
	antsibull-changelog release --version $(RELEASE)
	@echo "galaxy.yml and CHANGELOG.rst are at $(RELEASE): commit them"

changelog: venv
	antsibull-changelog generate

# The execution environment built here, without a registry login, and smoke-run (extensions/ee/build-local.sh:
# podman and runc from the distribution, the tests' Debian rootfs as the base, a wheelhouse pip downloads).
# Not part of `make test`. The definition AWX uses names Red Hat's base image (docs/awx.md).
ee: venv rootfs
	@command -v podman >/dev/null && command -v runc >/dev/null || { \
	  echo "apt-get install podman runc"; apt-get update -qq && apt-get install -y -qq --no-install-recommends podman runc >/dev/null; }
	extensions/ee/build-local.sh

clean:
	rm -rf $(BUILD) $(VENV) tests/output
