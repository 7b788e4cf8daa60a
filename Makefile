# Polyphony: `make run` starts the platform on its embedded defaults; `make test` installs what
# the tests need (front-end packages, a MinIO server, a Mailpit mail server, Debian's chromium
# and poppler-utils)
# and runs them all. The tests build the OpenID provider they sign in through
# (cmd/polyphony-testop) themselves.

MINIO_VERSION := v0.0.0-20260212201848-7aac2a2c5b7c
CACHE         := $(CURDIR)/.cache
MINIO_BIN     := $(CACHE)/bin/minio
MAILPIT_VERSION := v1.33.1
MAILPIT_BIN   := $(CACHE)/bin/mailpit
NHSUK_DIST    := node_modules/nhsuk-frontend/dist/nhsuk
STATIC_NHSUK  := server/static/nhsuk
SUDO          := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
GO_TEST_FLAGS ?= -race -count=1 -timeout 60m

.PHONY: run build assets minio mailpit chromium poppler test vet fmt-check clean b10-year b10

run: build
	./bin/polyphony demo
	./bin/polyphony serve

build: assets
	go build -o bin/polyphony ./cmd/polyphony

# NHS.UK frontend, fetched from npm and copied where the binary embeds it.
assets: $(STATIC_NHSUK)/.copied

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

$(STATIC_NHSUK)/.copied: node_modules/.package-lock.json
	rm -rf $(STATIC_NHSUK)
	mkdir -p $(STATIC_NHSUK)
	cp $(NHSUK_DIST)/nhsuk-frontend.min.css $(NHSUK_DIST)/nhsuk-frontend.min.js $(STATIC_NHSUK)/
	cp -r $(NHSUK_DIST)/assets $(STATIC_NHSUK)/assets
	touch $@

# A real MinIO server for the media contract tests, built once into the git-ignored cache.
minio: $(MINIO_BIN)

$(MINIO_BIN):
	@echo "Building MinIO $(MINIO_VERSION) into $(CACHE)/bin (the first time takes several minutes)"
	GOBIN=$(CACHE)/bin go install github.com/minio/minio@$(MINIO_VERSION)

# A real mail server (Mailpit) for the email tests, installed once into the git-ignored cache.
mailpit: $(MAILPIT_BIN)

$(MAILPIT_BIN):
	@echo "Installing Mailpit $(MAILPIT_VERSION) into $(CACHE)/bin"
	GOBIN=$(CACHE)/bin go install github.com/axllent/mailpit@$(MAILPIT_VERSION)

# Debian's chromium for the browser tests.
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
		echo "Installing Debian's chromium for the browser tests"; \
		$(SUDO) apt-get update -q && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q --no-install-recommends chromium; }

# Debian's poppler-utils (pdftotext, pdfimages), with which the tests read back the PDFs the
# platform makes.
poppler:
	@command -v pdftotext >/dev/null 2>&1 && command -v pdfimages >/dev/null 2>&1 || { \
		echo "Installing Debian's poppler-utils for the PDF tests"; \
		$(SUDO) apt-get update -q && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q --no-install-recommends poppler-utils; }

# B10: a year of one trust's synthetic data, built once into the git-ignored cache (the first
# build takes a while; later runs reuse it), then the main requests timed on it against a
# nearly empty folder. B10_SCALE=0.05 is a check in a minute or two.
B10_SCALE ?= 1
b10-year:
	go run ./cmd/polyphony-b10 -build -scale $(B10_SCALE) -year $(CACHE)/b10-year

b10: b10-year
	go run ./cmd/polyphony-b10 -scale $(B10_SCALE) -year $(CACHE)/b10-year

vet:
	go vet ./...

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

test: assets minio mailpit chromium poppler fmt-check vet
	POLYPHONY_MINIO_BIN=$(MINIO_BIN) POLYPHONY_MAILPIT_BIN=$(MAILPIT_BIN) go test $(GO_TEST_FLAGS) ./...

clean:
	rm -rf bin $(STATIC_NHSUK)
