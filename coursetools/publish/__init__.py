"""Publishing the course: reveal.js decks of the lectures and a static Sphinx site, offline.

    make slides    python -m coursetools.publish.slides   -> build/slides/
    make site      python -m coursetools.publish.site     -> build/site/

Both read the executed notebooks in build/ (`make notebooks`), running first only those that
are missing, failed or older than their sources (`executed.ensure`). Every script, style and
font they need comes from publish/node_modules (`npm ci`, pinned in publish/package-lock.json)
and is copied next to the pages, so nothing is fetched from another host when they are viewed.
"""
