"""HTTP clients, pacing, row building and state shared by the built-in solutions."""
