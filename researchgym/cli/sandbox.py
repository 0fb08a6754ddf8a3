"""``researchgym sandbox``: the sandbox image, the Docker daemon, and clean-up."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from researchgym.cli._output import console

sandbox_app = typer.Typer(
    help="The Docker sandboxes: image, daemon, clean-up.", no_args_is_help=True
)


class BuildChoice(StrEnum):
    """How the sandbox image is built."""

    auto = "auto"
    dockerfile = "dockerfile"
    offline = "offline"


@sandbox_app.command("build")
def sandbox_build(
    method: Annotated[
        BuildChoice,
        typer.Option(
            help="dockerfile, offline (from Debian packages), or auto (offline "
            "unless a registry answers)."
        ),
    ] = BuildChoice.auto,
    force: Annotated[bool, typer.Option(help="Build again even if the image exists.")] = False,
    if_docker: Annotated[
        bool,
        typer.Option(help="Do nothing, successfully, when no Docker daemon answers."),
    ] = False,
) -> None:
    """Build the sandbox image researchgym/sandbox:<version>, unless it is built already."""
    import anyio

    from researchgym.sandboxes import build_image, docker_reachable

    if if_docker and not anyio.run(docker_reachable):
        console.print("No Docker daemon answers: no image to build; runs use local sandboxes.")
        return
    with console.status("Building the sandbox image") as status:

        def progress(line: str) -> None:
            status.update(f"Building the sandbox image: {line}")

        image_id = anyio.run(
            lambda: build_image(method=method.value, force=force, progress=progress)
        )
    console.print(f"Sandbox image ready ({image_id[:19]}).")


@sandbox_app.command("status")
def sandbox_status() -> None:
    """Say whether the Docker daemon answers and which sandbox images it has."""
    import anyio
    from rich import box
    from rich.table import Table

    from researchgym.sandboxes import sandbox_status as status_of

    status = anyio.run(status_of)
    limits = "enforced" if status.disks.enforced else "not enforced"
    console.print(f"Disk limits: {limits} ({status.disks.detail}).", soft_wrap=True)
    isolation = status.local.detail if status.local.namespaces else f"none ({status.local.detail})"
    console.print(f"Local sandboxes isolate: {isolation}.", soft_wrap=True)
    if not status.reachable:
        console.print(f"Docker: not reachable. {status.problem}", soft_wrap=True)
        console.print("Runs use local sandboxes (--sandbox auto).")
        return
    console.print(f"Docker {status.docker_version}: reachable.")
    out = Table("image", "id", "size", "created", box=box.SIMPLE_HEAD)
    for image in status.images:
        out.add_row(
            image.name,
            image.id[7:19],
            f"{image.size / 2**20:,.0f} MB",
            f"{image.created:%Y-%m-%d %H:%M}",
        )
    console.print(out)
    if status.ready:
        console.print(f"{status.image} is built: runs use Docker sandboxes.")
    else:
        console.print(f"{status.image} is not built. Build it with: researchgym sandbox build")


@sandbox_app.command("prune")
def sandbox_prune(
    run: Annotated[str | None, typer.Option("--run", help="Only this run's containers.")] = None,
    everything: Annotated[
        bool,
        typer.Option(
            "--all",
            help="Also remove the containers of runs still going on, and "
            "those other hosts started.",
        ),
    ] = False,
) -> None:
    """Remove the sandbox containers that crashed or killed runs left behind."""
    import anyio

    from researchgym.sandboxes import prune_sandboxes

    result = anyio.run(lambda: prune_sandboxes(run_id=run, everything=everything))
    console.print(f"Removed {len(result.removed)} sandbox containers.")
    if result.disks:
        console.print(f"Removed {len(result.disks)} sandbox disks of ended runs.")
    if result.groups:
        console.print(f"Removed {len(result.groups)} local sandboxes' control groups.")
    if result.kept:
        console.print(
            f"Kept {len(result.kept)} of runs still going on ({', '.join(result.kept)}); "
            "--all removes them too."
        )
