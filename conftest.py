"""Repository-wide test configuration.

pytester drives the plugin in its own tests. Under CI, Hypothesis draws the same examples
on every run and keeps no example database, so a CI result repeats exactly.
"""

import os

from hypothesis import settings

pytest_plugins = ["pytester"]

settings.register_profile("ci", derandomize=True, database=None, deadline=None)
if os.environ.get("CI"):
    settings.load_profile("ci")
