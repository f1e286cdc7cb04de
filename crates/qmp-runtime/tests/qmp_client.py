"""Talks to a QMP server with QEMU's own Python library (qemu.qmp).

Usage: qmp_client.py SOCKET.  Exits 0 after checking the replies; prints
what failed otherwise.
"""
import asyncio
import sys

from qemu.qmp import ExecuteError, QMPClient


async def main(path):
    qmp = QMPClient("qmp-runtime-test")
    await qmp.connect(path)  # reads the greeting, runs qmp_capabilities
    version = await qmp.execute("query-version")
    assert version["qemu"] == {"major": 10, "minor": 0, "micro": 2}, version
    target = await qmp.execute("query-target")
    assert target == {"arch": "x86_64"}, target
    names = {c["name"] for c in await qmp.execute("query-commands")}
    assert {"query-target", "query-version", "qmp_capabilities"} <= names, names
    echoed = await qmp.execute("x-echo", {"s": "\u00e9", "l": [1, 2.5, None]})
    assert echoed == {"s": "\u00e9", "l": [1, 2.5, None]}, echoed
    try:
        await qmp.execute("no-such-command")
        raise AssertionError("no error for an unknown command")
    except ExecuteError as err:
        assert "The command no-such-command has not been found" in str(err), str(err)
    try:
        await qmp.execute("query-cpu-model-expansion", {"type": 1})
        raise AssertionError("no error for a bad argument")
    except ExecuteError as err:
        assert "Invalid parameter type for 'type', expected: string" in str(err), str(err)
    # Several in flight at once.
    replies = await asyncio.gather(*(qmp.execute("query-target") for _ in range(50)))
    assert all(r == {"arch": "x86_64"} for r in replies)
    await qmp.disconnect()
    print("qemu.qmp: negotiation, 55 commands and 2 errors as expected")


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
