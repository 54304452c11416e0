"""The demo paper account: an in-process simulator seeded from the bundled demo snapshot.

Its state lives in the user's data directory between runs (``hlrebal demo reset`` starts it over).
On first use the demo creates its own local key (mode 0600) and the paper account is that key's own
account, so demo execution signs real orders (and transfers) that the simulator verifies.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hlrebal.config import data_dir
from hlrebal.digest import sha256_hex
from hlrebal.exchange import address_of
from hlrebal.keys import SecretStr, SigningKey, read_key_file, write_key_file

if TYPE_CHECKING:
    from hlrebal.sim import Simulator


def demo_snapshot_doc() -> dict[str, Any]:
    """The bundled demo snapshot document (raw info responses)."""
    # The package's own data file, beside this module (importlib.resources costs 2 ms a run: the
    # wheel installs hlrebal as plain files, never zipped).
    path = Path(__file__).parent / "data" / "demo_snapshot.json"
    doc: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return doc


def demo_dir() -> Path:
    return data_dir() / "demo"


class DemoAccount:
    """A running demo: the sim, its URL (None when it is not served over HTTP), the account and the
    key that signs for it."""

    __slots__ = ("key", "sim", "url", "user")

    def __init__(self, *, sim: Simulator, url: str | None, user: str, key: SigningKey) -> None:
        self.sim = sim
        self.url = url
        self.user = user
        self.key = key

    def local(self, endpoint: str, body: dict[str, Any]) -> tuple[int, Any]:
        """Ask the demo's exchange in process, as an HTTP client would (for reads that sign nothing)."""
        return self.sim.handle(endpoint, body)


def _demo_key(folder: Path) -> SigningKey:
    path = folder / "agent.key"
    if not path.exists():
        import secrets  # only the first run: it starts OpenSSL (through hashlib), about 3 ms

        write_key_file(path, SecretStr("0x" + secrets.token_hex(32)))
    return read_key_file(path, "demo key")


def _demo_address(folder: Path, key: SigningKey) -> str:
    """The demo key's address, remembered beside it: deriving it imports eth_account (about half a
    second), which a demo plan otherwise never needs. The note names the key file's inode, time and
    size (nothing derived from the key but its address), so a key replaced by hand is derived again."""
    note = folder / "address"
    st = (folder / "agent.key").stat()
    digest = f"{st.st_ino}:{st.st_mtime_ns}:{st.st_size}"
    try:
        remembered_digest, address = note.read_text(encoding="utf-8").split()
        if remembered_digest == digest and len(address) == 42:
            return address
    except (FileNotFoundError, ValueError):
        pass
    address = address_of(key)
    note.write_text(f"{digest} {address}\n", encoding="utf-8")
    return address


@contextmanager
def running_demo(*, serve: bool = True) -> Iterator[DemoAccount]:
    """Start the demo simulator (state kept between runs), yield it, stop it.

    ``serve=False`` answers in process only (no HTTP server, no port): enough for reading the
    account, as a plan does; orders go through HTTP and the real SDK, so execution serves.
    """
    from hlrebal.sim import Simulator

    folder = demo_dir()
    folder.mkdir(parents=True, exist_ok=True)
    doc = demo_snapshot_doc()
    key = _demo_key(folder)
    # The demo key owns the paper account, so demo runs can sign everything a real owner can,
    # usdClassTransfer included.
    doc["user"] = _demo_address(folder, key)
    # A newer hlrebal may ship a different demo account (or the key was replaced): start that one
    # over rather than mixing an old state with a new seed.
    seed = sha256_hex(json.dumps(doc, sort_keys=True))
    marker = folder / "seed.sha256"
    state = folder / "state.json"
    if not marker.exists() or marker.read_text().strip() != seed:
        state.unlink(missing_ok=True)
        marker.write_text(seed + "\n")
    sim = Simulator(snapshot=doc, state=state, autosave=True)
    if not serve:
        yield DemoAccount(sim=sim, url=None, user=doc["user"], key=key)
        return
    with sim:
        yield DemoAccount(sim=sim, url=sim.url, user=doc["user"], key=key)


def reset_demo() -> bool:
    """Forget the demo's state (and its key). Returns whether there was anything to forget."""
    folder = demo_dir()
    if not folder.exists():
        return False
    shutil.rmtree(folder)
    return True
