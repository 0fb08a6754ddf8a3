"""The sandbox image, ``researchgym/sandbox:<version>``: building it, and what the daemon has.

```
build.py            build_image, sandbox_status, image_name: the image, built either way
_dockerfile.py      ... from files/Dockerfile, where a registry answers
_rootfs.py          ... offline: a Debian root filesystem made by mmdebstrap
_apt_sources.py     the host's apt sources for Debian, which the offline build uses
_docker_archive.py  a root filesystem tar loaded into Docker as a one-layer image
files/              the Dockerfile, the package list and the scripts both ways share
```

Usage:

```
image_id = await build_image(progress=print)  # does nothing if the image is there
status = await sandbox_status()
```

asyncio only (aiodocker).
"""

from __future__ import annotations

from researchgym.sandboxes.image.build import (
    IMAGE_REPOSITORY,
    REGISTRY_ANSWER_WITHIN,
    VERSION_LABEL,
    BuildMethod,
    SandboxImage,
    SandboxStatus,
    build_image,
    image_config,
    image_name,
    sandbox_status,
)

__all__ = [
    "IMAGE_REPOSITORY",
    "REGISTRY_ANSWER_WITHIN",
    "VERSION_LABEL",
    "BuildMethod",
    "SandboxImage",
    "SandboxStatus",
    "build_image",
    "image_config",
    "image_name",
    "sandbox_status",
]
