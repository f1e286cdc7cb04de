"""A third-party QMP client (Python's qemu.qmp) against qmp-cpu-server.

Usage: python_client.py SOCKET
Prints one JSON line with what it saw; exits non-zero on any failure.
"""
import asyncio
import json
import sys

from qemu.qmp import QMPClient


async def main(path: str) -> None:
    qmp = QMPClient("qmp-cpu-server-test")
    await qmp.connect(path)
    greeting = qmp.greeting
    version = await qmp.execute("query-version")
    target = await qmp.execute("query-target")
    expansion = await qmp.execute(
        "query-cpu-model-expansion",
        {"type": "static", "model": {"name": "qemu64", "props": {"vmx": True}}},
    )
    full = await qmp.execute(
        "query-cpu-model-expansion", {"type": "full", "model": {"name": "max"}}
    )
    await qmp.disconnect()
    print(json.dumps({
        "greeting_version": greeting._raw["QMP"]["version"],
        "version": version,
        "target": target,
        "static_name": expansion["model"]["name"],
        "static": expansion["static"],
        "static_migration_safe": expansion["migration-safe"],
        "full_static": full["static"],
        "full_migration_safe": full["migration-safe"],
    }))


asyncio.run(main(sys.argv[1]))
