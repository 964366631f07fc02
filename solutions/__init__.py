"""The four built-in sync solutions, each a subclass of pytest_syncbench.Solution."""
