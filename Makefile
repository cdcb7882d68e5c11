# Every target puts the project's Node 22 and Pulumi CLI first on PATH, so the two set-up
# commands (make demo, make test) work on a fresh machine.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
ROOT := $(CURDIR)
export PATH := $(ROOT)/.tools/node/bin:$(ROOT)/.tools/pulumi/bin:$(PATH)
export PULUMI_SKIP_UPDATE_CHECK := true
export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION := true

.PHONY: toolchain deps build native-provider package test test-unit test-e2e lint demo demo-clean emulator bench soak generate generate-sdks check-generated clean

toolchain:
	@bash scripts/toolchain.sh node
	@$(MAKE) --no-print-directory deps
	@bash scripts/toolchain.sh pulumi
	@bash scripts/toolchain.sh plugin

# npm ci only when the lock file changed since the last install. npm ci empties node_modules, so
# the link is made again with it: the serialized dynamic provider requires "pulumi-mcp-tunnels/..."
# at run time, and inside this repository that name resolves through the link, as it does from
# node_modules for users.
deps: node_modules/.installed
node_modules/.installed: package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@ln -sfn .. node_modules/pulumi-mcp-tunnels
	@touch $@

build: deps
	npx tsc -p tsconfig.build.json
	@bash scripts/build-native-sdk.sh
	@ln -sfn .. node_modules/pulumi-mcp-tunnels

# The native resource provider plugin, for programs in any language: puts the executable
# pulumi-resource-mcp-tunnels in PLUGIN_DIR; put that directory on PATH for the engine to find it.
PLUGIN_DIR ?= $(ROOT)/dist/plugins
native-provider: build
	@bash scripts/install-native-provider.sh "$(PLUGIN_DIR)"

# The npm tarball: a fresh build of a clean copy of the working tree (what git tracks, and new files
# it does not ignore), packed with package.json's "files", so an output of a deleted source left in
# dist/ never ships. Writes $(PACKAGE_DIR)/pulumi-mcp-tunnels-<version>.tgz; publish that file.
PACKAGE_DIR ?= $(ROOT)/dist/package
package: deps
	@rm -rf "$(PACKAGE_DIR)/tree" "$(PACKAGE_DIR)"/*.tgz && mkdir -p "$(PACKAGE_DIR)/tree"
	@git ls-files -z --cached --others --exclude-standard \
	  | while IFS= read -r -d '' file; do if [[ -e "$$file" ]]; then printf '%s\0' "$$file"; fi; done \
	  | xargs -0 cp --parents -t "$(PACKAGE_DIR)/tree"
	@ln -s "$(ROOT)/node_modules" "$(PACKAGE_DIR)/tree/node_modules"
	cd "$(PACKAGE_DIR)/tree" && npx tsc -p tsconfig.build.json && bash scripts/build-native-sdk.sh
	cd "$(PACKAGE_DIR)/tree" && npm pack --pack-destination "$(PACKAGE_DIR)" --json --loglevel=error > "$(PACKAGE_DIR)/pack.json"
	@echo "$$(ls "$(PACKAGE_DIR)"/*.tgz)"

# The tests typecheck against the built package where they import it by name (pulumi-mcp-tunnels/native).
lint: build
	npx tsc -p tsconfig.json --noEmit
	npx tsc -p tsconfig.examples.json --noEmit

test-unit: deps
	npx vitest run --project unit

test-e2e: toolchain build
	npx vitest run --project e2e

test: toolchain build lint
	@echo "engine: $$(pulumi version) ($$(command -v pulumi)); node $$(node --version)"
	@mkdir -p .tools
	npx vitest run --reporter=default --reporter=json --outputFile.json=.tools/test-results.json || { node scripts/test-summary.mjs .tools/test-results.json; exit 1; }
	@node scripts/test-summary.mjs .tools/test-results.json

# schema.json and docs/reference/ are generated from the zod schemas (core/schemas/) and the
# resource prose (sdk/resources/*.md); never edit them by hand.
generate: build
	node dist/scripts/generate-schema.js
	node dist/scripts/generate-docs.js

# generated-sdks/{nodejs,go,python} are generated from schema.json by Pulumi's own code generators
# (scripts/generate-sdks.ts); run after `make generate`, never edit them by hand.
generate-sdks: toolchain build
	node dist/scripts/generate-sdks-cli.js

# The drift check is a unit test (scripts/generate.test.ts), so `make test` runs it as well.
check-generated: toolchain
	npx vitest run --project unit scripts/generate.test.ts scripts/generated-sdks.test.ts

emulator: build
	node dist/emulator/cli.js --port $${PORT:-8787}

# The quickstart against a local emulator; state persists in .demo/, so a second run converges.
demo: toolchain build
	@bash scripts/demo.sh run

demo-clean: build
	@bash scripts/demo.sh clean

# Timings, state size and client overhead against no-op floors, as ratios taken in one run;
# prints a table and writes bench/results.json. Take numbers on a quiet machine.
bench: toolchain build
	npx vitest run --config bench/vitest.bench.config.mts

# The long reliability runs (tens of minutes): 40 quickstart ups under random faults (MCP_TUNNELS_SOAK_RUNS=N for more), 20 kill -9s
# of the engine at random moments, and the whole bad-input table. Each prints its figures
# ("faults soak: ...", "crash soak: ... seed N"); MCP_TUNNELS_SOAK_SEED=N replays a crash soak.
soak: toolchain build
	MCP_TUNNELS_SOAK=1 npx vitest run test/e2e/faults.test.ts test/e2e/crash.test.ts test/e2e/bad-input.test.ts

clean:
	rm -rf dist .demo
