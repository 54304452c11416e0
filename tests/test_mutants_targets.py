"""Reading a target file from standard input stops at the size limit, whatever is piped in.

Found by mutation testing (tests/mutation.py targets): no test piped more than the limit, so reading
standard input whole (``yes | hlrebal plan -`` would never end, or fill the memory) passed the suite.
"""

from __future__ import annotations

import pytest

from hlrebal.errors import TargetFileError
from hlrebal.inputs import read_limited


class EndlessInput:
    """Standard input that never ends: any amount asked for is there; asked for everything, it fails."""

    def read(self, size: int | None = -1) -> bytes:
        if size is None or size < 0:
            raise MemoryError("read an endless stream whole")
        return b" " * size


def test_an_endless_standard_input_is_refused_at_the_limit() -> None:
    with pytest.raises(TargetFileError) as info:
        read_limited("-", what="target file", limit=1000, error=TargetFileError, stdin=EndlessInput)
    assert info.value.message == "standard input: more than 1,000 bytes, the limit for a target file"


def test_standard_input_of_exactly_the_limit_is_read() -> None:
    class Exact:
        def read(self, size: int | None = -1) -> bytes:
            assert size is not None and size > 1000  # asks for one byte more than the limit, at most
            return b"{}" + b" " * 998

    assert read_limited("-", what="target file", limit=1000, error=TargetFileError, stdin=Exact) == b"{}" + b" " * 998
