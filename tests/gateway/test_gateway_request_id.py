"""Generated request ids: a UUID4's shape, never repeated, and different in a forked worker."""

from __future__ import annotations

import os
import re

from gateway.pipeline.request_id import _Ids, _ids

HEX32 = re.compile(r"[0-9a-f]{32}")


def test_generated_ids_look_like_uuid4_hex_and_do_not_repeat() -> None:
    ids = [_ids.next() for _ in range(10_000)]
    assert all(HEX32.fullmatch(i) for i in ids)
    assert len(set(ids)) == len(ids)


def test_two_generators_do_not_share_a_sequence() -> None:
    assert {_Ids().next() for _ in range(100)} != {_Ids().next() for _ in range(100)}


def test_a_forked_child_draws_its_own_ids() -> None:
    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: its first ids, then out without running anything of pytest's
        os.write(writer, " ".join(_ids.next() for _ in range(3)).encode())
        os._exit(0)
    os.close(writer)
    child = os.read(reader, 200).decode().split()
    os.waitpid(pid, 0)
    os.close(reader)
    parent = [_ids.next() for _ in range(3)]
    assert len(child) == 3 and not set(child) & set(parent)
