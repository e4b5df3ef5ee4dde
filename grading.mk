# Grading targets, included by the Makefile (`include grading.mk`). They use its variables
# PY, VENV, STAMP and JOBS. See the README's grading section and coursetools/grading/.
#
#   make release                      labs/ and the gradebook from solutions/
#   make collect ZIP=subs.zip [LAB=lab1_cells] [FORCE=1]
#   make autograde [JOBS=2] [FORCE=1] [STUDENT=ada] [LABS="lab1_cells"] [GRADE_ARGS=...]
#   make autograde SHARD=2/4 ...      only shard 2 of 4 of the students (then merge-grades)
#   make merge-grades                 join the shards: one gradebook and grades.csv
#   make grades                       feedback and grades.csv again, after Formgrader
#   make sandbox-deps                 install bubblewrap (root, apt-get) when it is missing

# nbgrader runs `alembic` from PATH: put the venv first, however make was called.
GRADING := PATH="$(abspath $(VENV))/bin:$$PATH" $(PY) -m coursetools.grading
LABS ?=
STUDENT ?=
FORCE ?=
ZIP ?=
LAB ?=
GRADE_ARGS ?=

.PHONY: release collect autograde merge-grades grades check-sandbox sandbox-deps

release: $(STAMP) ## regenerate labs/ and the gradebook from solutions/ (nbgrader generate_assignment)
	$(GRADING) release $(LABS)

collect: $(STAMP) ## unpack ZIP=<file> of submissions into submitted/<student>/<lab>/ (LAB, FORCE=1)
	@test -n "$(ZIP)" || { echo "usage: make collect ZIP=submissions.zip [LAB=<lab>] [FORCE=1]"; exit 2; }
	$(GRADING) collect "$(ZIP)" $(if $(LAB),--lab $(LAB)) $(if $(FORCE),--force)

autograde: $(STAMP) sandbox-deps ## grade submitted/ in the sandbox: grades.csv, feedback/ (JOBS, FORCE=1, STUDENT, LABS, SHARD=i/N)
	$(GRADING) autograde --jobs $(JOBS) $(if $(FORCE),--force) \
		$(if $(STUDENT),--student $(STUDENT)) $(if $(SHARD),--shard $(SHARD)) $(GRADE_ARGS) $(LABS)

merge-grades: $(STAMP) ## after autograde SHARD=i/N for every i: one gradebook, grades.csv and summary
	$(GRADING) merge-grades

grades: $(STAMP) ## after manual grading in Formgrader: feedback and grades.csv again (grades nothing)
	$(GRADING) grades

check-sandbox: $(STAMP) sandbox-deps ## check that bubblewrap can sandbox a kernel on this machine
	$(GRADING) check-sandbox

sandbox-deps: ## install bubblewrap (the grading sandbox) with apt-get when it is missing
	@$(call apt_install,bwrap,bubblewrap,bubblewrap (bwrap) is needed for grading)
