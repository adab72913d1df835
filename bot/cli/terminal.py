"""Text for a terminal: untrusted text (what a post, a feed or an error message says) made
harmless there."""

from __future__ import annotations

import re

# C0/C1 controls other than tab and newline: an ESC sequence printed to a terminal could restyle
# the output, move the cursor or retitle the window. Each becomes one space, so offsets computed
# on the original text (highlighted words) still line up.
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def clean_for_terminal(text: str) -> str:
    """Untrusted text with its control characters blanked, one space each (offsets hold)."""
    return _CONTROLS.sub(" ", text)
