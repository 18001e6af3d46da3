"""resources.listing: one reading per key for ttl seconds, dropped on forget; a failed
reading is raised and not kept."""

from __future__ import annotations

import pytest

from orchestrator.resources.listing import Listing


def test_one_reading_per_key_until_forgotten() -> None:
    reads: list[str] = []
    listing: Listing[str] = Listing(ttl=60.0)

    def read(key: str):  # noqa: ANN202
        return lambda: reads.append(key) or f"{key}-{len(reads)}"

    assert listing.get("podman", read("podman")) == "podman-1"
    assert listing.get("podman", read("podman")) == "podman-1"
    assert listing.get("docker", read("docker")) == "docker-2"
    listing.forget()
    assert listing.get("podman", read("podman")) == "podman-3"
    assert reads == ["podman", "docker", "podman"]


def test_an_expired_reading_is_read_again() -> None:
    count = iter(range(10))
    listing: Listing[int] = Listing(ttl=-1.0)  # always expired
    assert [listing.get("", lambda: next(count)) for _ in range(3)] == [0, 1, 2]


def test_a_failed_reading_is_raised_and_not_kept() -> None:
    listing: Listing[int] = Listing(ttl=60.0)

    def fail() -> int:
        raise OSError("ip: command not found")

    with pytest.raises(OSError):
        listing.get("", fail)
    assert listing.get("", lambda: 7) == 7
