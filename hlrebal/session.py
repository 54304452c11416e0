"""Where the account comes from: a saved snapshot, the demo paper account, or a live endpoint.

:func:`connect` turns the resolved settings and a command's options into a :class:`Connection` that
can read snapshots and, when a signer is attached, place orders. It prints nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hlrebal.errors import BadInputError
from hlrebal.snapshot import Snapshot, load_snapshot

if TYPE_CHECKING:
    from hlrebal.config import Resolved
    from hlrebal.demo import DemoAccount
    from hlrebal.exchange import ExchangeClient
    from hlrebal.keys import SigningKey


class Connection:
    """An account to read (and maybe trade): its address, network, client and signer (a plain
    class: a dataclass costs every start about 0.5 ms to build)."""

    def __init__(
        self,
        *,
        user: str,
        network_label: str,
        client: ExchangeClient | None = None,
        snapshot_file: Path | None = None,
        saved: Snapshot | None = None,
        key: SigningKey | None = None,
        signer: str | None = None,
        vault: str | None = None,
        demo: DemoAccount | None = None,
    ) -> None:
        self.user = user
        self.network_label = network_label
        self.client = client
        self.snapshot_file = snapshot_file
        self.saved = saved
        """The snapshot file's content, read once."""
        self.key = key
        self.signer = signer
        self.vault = vault
        self.demo = demo

    @property
    def is_live(self) -> bool:
        return self.client is not None

    def read(self, *, spot: bool = False, dexes: tuple[str, ...] = ()) -> Snapshot:
        """One fresh snapshot (or the saved one)."""
        if self.saved is not None:
            return self.saved
        if self.snapshot_file is not None:
            return load_snapshot(self.snapshot_file)
        assert self.client is not None
        return self.client.read_snapshot(self.user, spot=spot, dexes=dexes, network_label=self.network_label)


@contextmanager
def connect(
    resolved: Resolved,
    *,
    snapshot_file: Path | None = None,
    demo: bool = False,
    key_file: Path | None = None,
    need_signer: bool = False,
    timeout: float | None = None,
) -> Iterator[Connection]:
    """Open the account the options name. Raises BadInputError for contradictory or missing options."""
    if snapshot_file is not None and demo:
        raise BadInputError("--snapshot and --demo were both given; use one of them")
    if snapshot_file is not None:
        if need_signer:
            raise BadInputError("a saved snapshot is never traded on: drop --snapshot to execute")
        snap = load_snapshot(snapshot_file)
        yield Connection(user=snap.user, network_label=snap.network, snapshot_file=snapshot_file, saved=snap)
        return

    if demo:
        with _demo_connection(need_signer=need_signer, timeout=timeout) as conn:
            yield conn
        return
    yield _live_connection(resolved, key_file=key_file, need_signer=need_signer, timeout=timeout)


@contextmanager
def _demo_connection(*, need_signer: bool, timeout: float | None) -> Iterator[Connection]:
    """The demo paper account. Reading it needs no HTTP server (nor the SDK): it is asked in process.
    Orders go over HTTP through the real SDK, signed, as they would to the exchange."""
    from hlrebal.demo import running_demo
    from hlrebal.exchange import DEFAULT_TIMEOUT, ExchangeClient

    with running_demo(serve=need_signer) as account:
        client = ExchangeClient(
            account.url or "http://demo.invalid",
            network="demo",
            timeout=timeout or DEFAULT_TIMEOUT,
            local=None if need_signer else account.local,
        )
        conn = Connection(user=account.user, network_label="demo", client=client, demo=account)
        if need_signer:
            conn.key = account.key
            conn.signer = client.attach_signer(account.key)
        yield conn


def _live_connection(
    resolved: Resolved, *, key_file: Path | None, need_signer: bool, timeout: float | None
) -> Connection:
    """An endpoint's account: the address (or vault) the settings name, else the key's own; the key
    found when signing or when no address is given; an API wallet checked against its account."""
    from hlrebal.exchange import DEFAULT_TIMEOUT, ExchangeClient

    settings = resolved.settings
    client = ExchangeClient(resolved.base_url, network=resolved.network_label, timeout=timeout or DEFAULT_TIMEOUT)
    vault = settings.vault.lower() if settings.vault else None
    address = settings.account_address.lower() if settings.account_address else None
    key: SigningKey | None = None
    if need_signer or (address is None and vault is None):
        from hlrebal.keys import find_key

        key = find_key(
            key_file_flag=key_file,
            config_key_file=settings.key_file,
            config_key_env=settings.key_env,
            config_key_source=resolved.sources.get("key_file", resolved.sources.get("key_env", "configuration")),
        )
    if need_signer and key is None:
        raise BadInputError(
            "no signing key",
            hint="pass --key-file PATH (mode 0600), set HLREBAL_PRIVATE_KEY, or set key_file in the configuration",
        )
    signer = client.attach_signer(key, vault=vault) if key is not None else None
    user = vault or address or signer
    if user is None:
        raise BadInputError(
            "no account address",
            hint="pass --address 0x… or set HLREBAL_ACCOUNT_ADDRESS (reading an account needs no key)",
        )
    if need_signer and signer is not None and vault is None and signer != user:
        _check_agent(client, signer, user)
    return Connection(
        user=user,
        network_label=resolved.network_label,
        client=client,
        key=key,
        signer=signer if need_signer else None,
        vault=vault,
    )


def _check_agent(client: ExchangeClient, signer: str, user: str) -> None:
    """A key that is not the account's own must be an API wallet approved *for that account*:
    otherwise the exchange would fill the orders on the signer's own account while hlrebal plans
    from another one."""
    role = client.user_role(signer)
    if role is None:
        return  # an endpoint without userRole: the exchange's own signature check still applies
    raw_data = role.get("data")
    data: dict[str, Any] = raw_data if isinstance(raw_data, dict) else {}
    if role.get("role") == "agent" and str(data.get("user", "")).lower() == user:
        return
    what = {
        "agent": f"an API wallet of another account ({data.get('user')})",
        "user": "an account of its own",
        "vault": "a vault",
        "subAccount": "a sub-account",
        "missing": "unknown to the exchange",
    }.get(str(role.get("role")), f"a {role.get('role')}")
    raise BadInputError(
        f"the key signs as {signer}, which is {what}, not an API wallet of {user}: no order was sent",
        hint="use the account's own key or an API wallet approved for it, or pass --address for the key's account",
    )
