# Thin wrappers over `cargo xtask` and the generator script. `make help` lists them.
.DEFAULT_GOAL := help
CARGO ?= cargo
# Extra flags for `cargo xtask e2e` in `make test` and `make e2e`, e.g. --no-node where there is no root.
E2E_FLAGS ?=

.PHONY: help setup template test lint test-chart renderer-check mutants mutants-pods docs e2e e2e-cluster e2e-serve snapshots bench secrets package migrate-values

help: ## List the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-15s %s\n", $$1, $$2}'

setup: ## Install pinned Helm 3/4 (go install), Kubernetes schemas (pip) into .tools/
	$(CARGO) xtask setup

template: setup ## Render the chart with its default values
	$(CARGO) xtask template

test: setup lint ## Run every test: format and lints, unit and tidy tests, the chart matrix, the renderer check, the mutation suite, the lifecycle suite (e2e), the pod mutants (with the node)
	$(CARGO) test --workspace
	$(CARGO) xtask renderer-check
	$(CARGO) xtask mutants
	$(CARGO) xtask e2e $(E2E_FLAGS)
ifeq ($(findstring --no-node,$(E2E_FLAGS)),)
	$(CARGO) xtask mutants --pods
endif

MACOS_TARGET := x86_64-apple-darwin

lint: ## cargo fmt --check, cargo clippy -D warnings over every target (and xtask for macOS, when rustup has its target), actionlint over .github/workflows
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	@if rustup target list --installed 2>/dev/null | grep -qx $(MACOS_TARGET); then \
	  echo "$(CARGO) clippy --target $(MACOS_TARGET) -p xtask -- -D warnings"; \
	  $(CARGO) clippy --target $(MACOS_TARGET) -p xtask -- -D warnings; \
	else \
	  echo "lint: xtask's macOS build not checked: rustup target add $(MACOS_TARGET) (.ci/run does)"; \
	fi
	$(CARGO) xtask actionlint

renderer-check: setup ## Every case through each Helm's renderer and its helm template CLI: byte-identical or fail
	$(CARGO) xtask renderer-check

mutants: setup ## Plant each defect of tests/mutants/ into a throwaway chart copy; the matrix must catch every one
	$(CARGO) xtask mutants

mutants-pods: setup ## Plant each defect of tests/mutants/pods/ and run the e2e scenario it names on the built-in node (HEIMDALL_SOURCE)
	$(CARGO) xtask mutants --pods

docs: ## Regenerate the chart README's value tables (from values.yaml) and the README's rule list
	$(CARGO) xtask docs

e2e: setup ## Lifecycle suite against the built-in cluster (control plane and a real node; HEIMDALL_SOURCE=heimdall2 source archive), started as `e2e --serve`
	$(CARGO) xtask e2e $(E2E_FLAGS)

e2e-cluster: setup ## Lifecycle suite against your cluster: make e2e-cluster KUBECONFIG_FILE=~/.kube/config [CONTEXT=staging]
	$(CARGO) xtask e2e --kubeconfig "$(KUBECONFIG_FILE)" $(if $(CONTEXT),--context "$(CONTEXT)")

migrate-values: ## Translate a mitre/heimdall-helm values file: make migrate-values FROM=old-values.yaml OUT=migrated (docs/migration-from-heimdall-helm.md)
	$(CARGO) xtask migrate-values "$(FROM)" --out "$(OUT)"

e2e-serve: setup ## Start the built-in cluster with its node (HEIMDALL_SOURCE=...), print its kubeconfig path; Ctrl-C stops it and undoes every host change
	$(CARGO) xtask e2e --serve

test-chart: setup ## Run the chart matrix alone (cargo xtask test-chart)
	$(CARGO) xtask test-chart

snapshots: setup ## Review and accept snapshot changes (read each diff first)
	$(CARGO) xtask test-chart --review

bench: setup ## Time the matrix against a sequential loop of the same Helm commands
	$(CARGO) xtask bench

package: setup ## Build the chart archive into dist/ (the only supported way: it can never ship secrets)
	$(CARGO) xtask package

secrets: ## Write heimdall/env/heimdall-secrets.yaml (gitignored, mode 0600)
	./generate-heimdall-secrets.sh
