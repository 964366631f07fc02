"""Set-up shared by every test.

pytester's in-process runs remove from ``sys.modules`` the modules first imported during
the run. httpx maps httpcore's exceptions by their classes, so an httpcore imported again
after such a run raises classes that an httpx of the earlier import does not map, and a
refused connection surfaces as ``httpcore.ConnectError`` instead of ``httpx.ConnectError``.
Importing both here keeps one copy of each for the whole session.
"""

import httpcore  # noqa: F401
import httpx  # noqa: F401
