"""Key files written where a user keeps them: a second key beside the first, in an existing folder.

Found by mutation testing (tests/mutation.py keys): nothing wrote a key into a folder that already
exists, which is the common case (the demo's home, ``~/.config/hlrebal``).
"""

from __future__ import annotations

import stat
from pathlib import Path

from hlrebal.keys import normalize_key, read_key_file, write_key_file

FIRST = "0x" + "ab" * 32
SECOND = "0x" + "cd" * 32


def test_a_key_file_is_written_into_a_folder_that_already_exists(tmp_path: Path) -> None:
    first, second = tmp_path / "a.key", tmp_path / "b.key"
    write_key_file(first, normalize_key(FIRST, "test"))
    write_key_file(second, normalize_key(SECOND, "test"))
    assert stat.S_IMODE(second.stat().st_mode) == 0o600
    assert read_key_file(first, "first").secret.get_secret_value() == FIRST
    assert read_key_file(second, "second").secret.get_secret_value() == SECOND
