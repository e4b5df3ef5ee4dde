# Slides and website, offline (included by the Makefile; coursetools/publish/).
#   make slides          every lecture as a reveal.js deck: build/slides/index.html
#   make site            the course website: build/site/index.html
#   make publish-deps    npm ci in publish/ (reveal.js, MathJax, require.js, jQuery; pinned)
#   make browser-deps    Debian's chromium, which the browser tests drive through playwright
# Both builds read the executed notebooks in build/ and run first only those that are
# missing, failed or older than their sources (quick mode; `make notebooks MODE=full` first
# for a full-mode deck or site).

NODE_STAMP := publish/node_modules/.installed

.PHONY: slides site publish-deps browser-deps

slides: $(STAMP) publish-deps ## every lecture as an offline reveal.js deck in build/slides/ (runs stale notebooks)
	$(PY) -m coursetools.publish.slides

site: $(STAMP) publish-deps ## the course website in build/site/, offline (runs stale notebooks)
	$(PY) -m coursetools.publish.site

publish-deps: $(NODE_STAMP) ## npm ci the slides' and site's browser assets into publish/node_modules

$(NODE_STAMP): publish/package.json publish/package-lock.json
	@$(call apt_install,npm,npm,npm is needed to fetch reveal.js and MathJax)
	npm ci --prefix publish --no-audit --no-fund --loglevel=error
	touch $(NODE_STAMP)

browser-deps: ## install Debian's chromium (for the browser tests) with apt-get when it is missing
	@$(call apt_install,chromium,chromium,chromium is needed for the browser tests)
