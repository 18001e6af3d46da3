"""Fixtures for the ``containers`` tests: the images, and podman's Docker API.

``container_images`` (session) runs deploy/images.sh: the first time it debootstraps the
base (about 2 minutes), then it only checks that the images are current. ``podman_api``
(session) is ``podman system service`` on a socket of its own, stopped when the session
ends, pass or fail; ``docker_api`` points ``DOCKER_HOST`` (what testcontainers and
docker-compose read) at it for one test. Tests that need neither never pay for them.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from container_support import REPO, engine_env
from podman_api import PodmanService

IMAGES_TIMEOUT = 900  # a first debootstrap on a busy machine; ~1 s once the images exist


@pytest.fixture(scope="session")
def container_images() -> None:
    proc = subprocess.run(["bash", str(REPO / "deploy" / "images.sh")], capture_output=True,
                          text=True, timeout=IMAGES_TIMEOUT, cwd=REPO,
                          env={**os.environ, **engine_env()})
    if proc.returncode != 0:
        pytest.fail(f"deploy/images.sh failed:\n{proc.stderr[-3000:]}", pytrace=False)


@pytest.fixture(scope="session")
def podman_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PodmanService]:
    service = PodmanService(Path(tmp_path_factory.mktemp("podman-api")))
    try:
        service.start()
    except RuntimeError as exc:
        pytest.fail(str(exc), pytrace=False)
    try:
        yield service
    finally:
        service.stop()


@pytest.fixture
def docker_api(podman_api: PodmanService, container_images: None,
               monkeypatch: pytest.MonkeyPatch) -> PodmanService:
    """The session's podman API as this test's engine (``DOCKER_HOST``)."""
    for key, value in podman_api.env().items():
        monkeypatch.setenv(key, value)
    return podman_api
