"""Suite-wide settings.

Under CI (the `CI` environment variable, which .ci/run's caller sets) hypothesis runs
derandomized: the same examples every run, so a red CI always means a change broke
something.  On a developer's machine it explores new examples each run and keeps the
failures it finds in .hypothesis/ to replay them.
"""

import os

from hypothesis import settings

settings.register_profile("ci", derandomize=True, print_blob=True)
settings.register_profile("dev", print_blob=True)
settings.load_profile("ci" if os.environ.get("CI") else "dev")
