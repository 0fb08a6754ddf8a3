"""``check_sandbox``: whether a sandbox backend keeps the ``Sandbox`` contract.

What every backend must do, as the engine, the tools and the evaluator rely on it: a
persistent shell (directory and variables carry over), exit codes, a timeout that kills the
command and spares the shell, capped output, byte-exact files through the agent's file API,
uploads, and no use after ``aclose``.
"""

from __future__ import annotations

import secrets
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import anyio

from researchgym.errors import SandboxClosedError
from researchgym.sandboxes import SANDBOXES, ProviderOptions, SandboxProvider, SandboxSpec
from researchgym.testing.base import expect

if TYPE_CHECKING:
    from researchgym.sandboxes import ProviderFactory, Sandbox

__all__ = ["check_sandbox"]

_PAYLOAD = bytes(range(256)) * 4 + "é\n".encode()
"""Every byte value, and UTF-8 text: a file must come back exactly as it was written."""


async def check_sandbox(backend: str | ProviderFactory, *, spec: SandboxSpec | None = None) -> None:
    """Open a sandbox of ``backend`` and check what every sandbox must do.

    Args:
        backend: A name of ``SANDBOXES`` (a plug-in's, ``module:attribute``) or a backend.
        spec: What to ask the provider for (default: 512 MiB of memory).

    Raises:
        ConformanceError: Naming the first promise the backend breaks.
    """
    name = backend if isinstance(backend, str) else getattr(backend, "__name__", repr(backend))
    component = f"sandbox provider '{name}'"
    factory = (
        await anyio.to_thread.run_sync(SANDBOXES.get, backend)
        if isinstance(backend, str)
        else backend
    )
    options = ProviderOptions(run_id=f"check-{secrets.token_hex(3)}")
    async with factory(options) as provider:
        expect(isinstance(provider, SandboxProvider), component, "it opens a SandboxProvider")
        sandbox = await provider.open(spec or SandboxSpec(memory="512m"), name=options.run_id)
        async with sandbox:
            for check in (_shell, _timeout, _cap, _files, _upload):
                await check(sandbox, component)
        try:
            await sandbox.exec("true", timeout=30)
        except SandboxClosedError:
            return
        expect(False, component, "a closed sandbox refuses exec with SandboxClosedError")


async def _shell(sandbox: Sandbox, component: str) -> None:
    hi = await sandbox.exec("echo hi", timeout=60)
    expect(
        (hi.exit_code, hi.output, hi.timed_out, hi.truncated) == (0, "hi\n", False, False),
        component,
        f"'echo hi' gives exit code 0 and the output 'hi\\n' (it gave {hi[:4]})",
    )
    failed = await sandbox.exec("(exit 3)", timeout=60)
    expect(failed.exit_code == 3, component, f"exit codes come back (3 gave {failed.exit_code})")
    await sandbox.exec("mkdir -p rgym_check && cd rgym_check && RGYM_CHECK=kept", timeout=60)
    kept = await sandbox.exec('echo "$(basename "$PWD") $RGYM_CHECK"', timeout=60)
    expect(
        kept.output == "rgym_check kept\n",
        component,
        f"the shell persists: its directory and variables carry over (it said {kept.output!r})",
    )
    await sandbox.exec(f"cd {sandbox.workdir}", timeout=60)


async def _timeout(sandbox: Sandbox, component: str) -> None:
    slow = await sandbox.exec("sleep 60", timeout=1)
    expect(slow.timed_out, component, "a command past its timeout is killed (timed_out)")
    after = await sandbox.exec("echo alive", timeout=60)
    expect(after.output == "alive\n", component, "the shell survives a command's timeout")


async def _cap(sandbox: Sandbox, component: str) -> None:
    flood = await sandbox.exec("head -c 5000000 /dev/zero | tr '\\0' x", timeout=120)
    expect(
        flood.truncated and len(flood.output) < 1_000_000,
        component,
        f"output is capped (5 MB of it came back as {len(flood.output)} characters)",
    )


async def _files(sandbox: Sandbox, component: str) -> None:
    await sandbox.write_file("rgym_check.bin", _PAYLOAD)
    back = await sandbox.read_file("rgym_check.bin")
    expect(back == _PAYLOAD, component, "a file written is read back byte for byte")
    size = await sandbox.exec("wc -c < rgym_check.bin", timeout=60)
    expect(
        size.output.strip() == str(len(_PAYLOAD)),
        component,
        "a file written through the file API is what the shell sees",
    )
    await sandbox.exec("printf shell > rgym_from_shell.txt", timeout=60)
    expect(
        await sandbox.read_file("rgym_from_shell.txt") == b"shell",
        component,
        "a file the shell wrote is read through the file API",
    )
    try:
        await sandbox.read_file("rgym_no_such_file")
    except FileNotFoundError:
        return
    expect(False, component, "reading a missing file raises FileNotFoundError")


async def _upload(sandbox: Sandbox, component: str) -> None:
    folder = await anyio.to_thread.run_sync(_folder_to_upload)
    try:
        await sandbox.upload(folder, str(sandbox.workdir / "rgym_up"))
    finally:
        await anyio.to_thread.run_sync(shutil.rmtree, folder)
    seen = await sandbox.exec("cat rgym_up/sub/up.txt", timeout=60)
    expect(seen.output == "uploaded", component, "an uploaded folder's files are in the sandbox")


def _folder_to_upload() -> Path:
    folder = Path(tempfile.mkdtemp(prefix="rgym-check-"))
    (folder / "sub").mkdir()
    (folder / "sub" / "up.txt").write_text("uploaded")
    return folder
