"""The plan file: its keys (keys), values (values), tables (readers), cross-checks (checks),
the document as a whole (document), reading it (files), where it is (paths), and the files
that hold secrets (secrets). `mgremind.loader` puts them together with the planner's checks."""
