"""Who is delivering: lease holder identities, and telling when a holder is certainly dead.

Only one process may send for a database (two running copies must never double-send), so
delivery holds a lease row (bot.store.lease), renews it, and another process takes it over only
when it expires — or at once when the holder is known dead. A holder is known dead only when
it ran on this machine, in this PID namespace, since this boot, and its process is gone (or is
a zombie, or is this very process under an identity no longer in use). Anything else waits for
expiry: a wrong "dead" would let two processes send.

    holder = "<hostname>/<boot id>/<pid namespace>/<pid>/<random>"
"""

from __future__ import annotations

import os
import socket
import uuid
from pathlib import Path

# Identities this process holds now: a second Deliverer in the same process (tests) is alive.
_LIVE: set[str] = set()


def _read(path: str) -> str:
    try:
        return Path(path).read_text().strip()
    except OSError:
        return "?"


def _machine() -> str:
    """This machine, this boot, this PID namespace: where a pid means one process."""
    boot = _read("/proc/sys/kernel/random/boot_id")[:8]
    try:
        pidns = os.readlink("/proc/self/ns/pid").strip("pid:[]")
    except OSError:
        pidns = "?"
    return f"{socket.gethostname()}/{boot}/{pidns}"


def new_holder() -> str:
    """A fresh identity for this process's deliverer (registered as alive)."""
    holder = f"{_machine()}/{os.getpid()}/{uuid.uuid4().hex[:8]}"
    _LIVE.add(holder)
    return holder


def retire(holder: str) -> None:
    _LIVE.discard(holder)


def is_dead(holder: str) -> bool:
    """True only when `holder` certainly no longer runs (see the module docstring)."""
    machine, _, rest = holder.rpartition("/")[0].rpartition("/")
    if "?" in machine or machine != _machine():
        return False  # another machine, namespace or boot: cannot tell, wait for expiry
    if not rest.isdigit():
        return False
    pid = int(rest)
    if pid == os.getpid():
        return holder not in _LIVE
    try:
        os.kill(pid, 0)  # signal 0: only checks that the process exists
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # exists, owned by someone else
    # A killed child its parent has not reaped yet still has a pid: it is a zombie.
    return _read(f"/proc/{pid}/stat").rpartition(")")[2].split()[:1] == ["Z"]
