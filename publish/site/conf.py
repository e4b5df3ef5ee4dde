"""Sphinx configuration of the course website (`make site`, coursetools/publish/site.py).

The sources are staged in build/site-src/ by coursetools.publish.site: the executed lectures,
the student versions of the labs, the landing page made from the README's course map, and one
API page per rnn_lib module. Nothing is executed here and nothing is fetched from the network.
"""

project = "Recurrent neural networks: an open course"
author = "the RNN course team"
copyright = "2026, " + author

extensions = ["myst_nb", "sphinx.ext.autodoc", "sphinx.ext.viewcode"]
nb_execution_mode = "off"  # the runner executed every notebook once, into build/
nb_merge_streams = True
myst_enable_extensions = ["dollarmath", "amsmath"]
myst_heading_anchors = 3
suppress_warnings = ["myst.header"]  # a lecture's "###" without a "##" above is fine

# MathJax 3 from publish/node_modules, copied to _static/mathjax3/ after the build: the path
# is relative to _static. (Not in html_static_path: each .js there becomes a script tag.)
mathjax_path = "mathjax3/tex-mml-chtml.js"

autodoc_default_options = {"members": True, "undoc-members": False, "show-inheritance": True}
autodoc_member_order = "bysource"
autodoc_typehints = "description"

html_theme = "sphinx_book_theme"
html_title = "RNN course"
html_theme_options = {
    "home_page_in_toc": True,
    "show_navbar_depth": 1,
    "use_download_button": True,
    "navigation_with_keys": True,
}
# pydata-sphinx-theme reads the light/dark mode from here; unset, it logs a console error.
html_context = {"default_mode": "auto"}
exclude_patterns = ["_build", "**.ipynb_checkpoints"]


def _plain_docstring(app, what, name, obj, options, lines):
    """rnn_lib's docstrings are plain text (aligned columns, `code` in single backticks), as
    help() shows them, not reStructuredText: show them verbatim, as a literal block."""
    if lines:
        lines[:] = ["::", ""] + [f"    {line}" for line in lines] + [""]


def setup(app):
    app.connect("autodoc-process-docstring", _plain_docstring)
