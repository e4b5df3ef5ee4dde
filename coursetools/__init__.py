"""Course tooling: notebook execution, release and grading (not imported by students)."""
